"""``headshots judge``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from headshots.cli import app
from headshots.cli._common import console, emit_json, friendly_errors, json_to_stdout
from headshots.cli._generate import progress_bar
from headshots.cli._options import DEFAULT_WORKERS, JsonOut, Top, Verbose, Workers
from headshots.cli._validate import image_folder, output_dir, output_file

CANDIDATES_HINT = "pass the folder of images to judge (e.g. a run's candidates/)"


def check_candidates_folder(folder: Path) -> None:
    from headshots.errors import InputError, NotFoundError

    # checked here, not by image_folder: its words speak of photos, these are candidates
    if not folder.is_dir():
        raise NotFoundError(f"candidates folder {folder} does not exist or is not a folder",
                            CANDIDATES_HINT)
    if not any(p.is_file() and not p.name.startswith(".") for p in folder.iterdir()):
        raise InputError(f"candidates folder {folder} has no files", CANDIDATES_HINT)


def load_candidates(folder: Path) -> list[Any]:
    """Candidates from ``index.jsonl`` when the folder has one, else every image in it (style
    "unknown", no seed)."""
    from headshots.generate import index_candidates, read_index
    from headshots.types import Candidate

    check_candidates_folder(folder)
    if read_index(folder / "index.jsonl"):
        return index_candidates(folder)[0]
    scan = image_folder(folder, what="candidates folder", hint=CANDIDATES_HINT)
    skipped = [(name, why) for name, why in scan.skipped if name != "index.jsonl"]
    if skipped:
        console.print("skipped: " + escape(", ".join(f"{n} ({w})" for n, w in skipped)))
    return [Candidate(id=p.stem, path=p) for p in scan.images]


def early_rejections(folder: Path) -> list[dict[str, Any]]:
    """Index records of candidates the generator stopped part-way (no image was kept)."""
    from headshots.generate import index_candidates

    return index_candidates(folder)[1] if (folder / "index.jsonl").exists() else []


REFERENCE_HINT = "pass the folder of the person's own photos with --reference"


def reference_images(folder: Path) -> list[Any]:
    """The person's own photos, decoded; those that cannot be used are left out with a word."""
    from headshots.errors import ImageError
    from headshots.media import decode_image, downscale

    scan = image_folder(folder, what="reference folder", hint=REFERENCE_HINT)
    if scan.skipped:
        console.print("skipped in the reference folder: " + escape(scan.skipped_text()))
    out, unusable = [], []
    for path in scan.images:
        try:
            out.append(downscale(decode_image(path).pixels, 1024)[0])
        except ImageError as exc:
            unusable.append(f"{path.name} ({exc.reason.value})")
    if unusable:
        console.print("reference photos left out: " + escape(", ".join(unusable)))
    return out


def judge_folder(candidates: list[Any], references: list[Any], top: int | None, workers: int
                 ) -> tuple[list[Any], list[str], Any]:
    """``pipeline.judge_against`` with a progress bar."""
    from headshots.pipeline import judge_against

    with progress_bar("judging") as progress:
        task = progress.add_task("", total=len(candidates))

        def tick(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, description=escape(name))

        return judge_against(candidates, references, top=top, workers=workers,
                             on_progress=tick)


def print_summary(results: list[Any], selected: list[str], calibration: Any,
                  early: Sequence[dict[str, Any]] = ()) -> None:
    from headshots.types import Reason

    counts: dict[str, int] = {}
    reasons = [[x.value for x in r.reasons] for r in results]
    reasons += [[e["settings"]["early_rejected"]] for e in early]
    for rs in reasons:
        for reason in rs:
            counts[reason] = counts.get(reason, 0) + 1
    title = f"Judged {len(results)} candidates"
    if early:
        title += f" (+{len(early)} stopped early during generation)"
    table = Table(title=title)
    table.add_column("reason")
    table.add_column("count", justify="right")
    table.add_column("meaning")
    for key, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        table.add_row(key, str(n), Reason(key).explanation)
    console.print(table)
    accepted = sum(r.accepted for r in results)
    console.print(f"accepted {accepted}, selected {len(selected)}; likeness threshold "
                  f"{calibration.threshold:.3f} ({calibration.method})")
    if reasons and not accepted and all(rs == [Reason.NO_FACE.value] for rs in reasons):
        console.print("[yellow]no candidate shows a face: with a tiny random test model this is "
                      "expected; with a real model, check the base model and the fine-tune[/]")


def write_json(path: Path, results: list[Any], selected: list[str], calibration: Any,
               early: Sequence[dict[str, Any]] = ()) -> None:
    from headshots.pipeline import judge_report

    emit_json(path, json.dumps(judge_report(results, selected, calibration, early), indent=2))


def deliver_results(results: list[Any], selected: list[str], calibration: Any, out: Path,
                    early: Sequence[dict[str, Any]] = (), config: Any = None) -> Any:
    from headshots.deliver import deliver
    from headshots.faces import default_backend
    from headshots.pipeline import to_selection

    selection = to_selection(results, selected, calibration, early)
    with progress_bar("delivering") as progress:
        task = progress.add_task("", total=len(selected))

        def tick(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, description=name)

        return deliver(selection, out, config, backend=default_backend(), progress=tick)


@app.command()
@friendly_errors
def judge(
    candidates_dir: Path = typer.Argument(..., help="Folder of candidate images."),
    reference: Path = typer.Option(..., "--reference", help="The person's own selfies."),
    top: Top = None,
    out: Path | None = typer.Option(None, "--out", help="Deliver the selection here."),
    json_out: JsonOut = None,
    workers: Workers = DEFAULT_WORKERS,
    verbose: Verbose = False,
) -> None:
    """Judge any folder of images against a person's selfies; select and deliver the best."""
    candidates = load_candidates(candidates_dir)  # checks the folder and its index
    image_folder(reference, what="reference folder", hint=REFERENCE_HINT)
    to_stdout = json_to_stdout(json_out)
    if json_out and not to_stdout:
        output_file(json_out, "--json", "verdicts.json")
    if out:
        output_dir(out, "--out")
    early = early_rejections(candidates_dir)
    results, selected, calibration = judge_folder(candidates, reference_images(reference), top,
                                                  workers)
    print_summary(results, selected, calibration, early)
    if json_out:
        write_json(json_out, results, selected, calibration, early)
        if not to_stdout:
            console.print(escape(f"verdicts: {json_out}"))
    if out:
        delivered = deliver_results(results, selected, calibration, out, early)
        console.print(escape(f"delivered {len(selected)} headshots to {out}; contact sheet "
                             f"{delivered.contact_sheet}; report {delivered.report}"))
