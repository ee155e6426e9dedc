"""``headshots check`` and ``headshots prepare``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from headshots.cli import app
from headshots.cli._common import console, emit_json, friendly_errors, json_to_stdout, progress
from headshots.cli._options import JsonOut, Resolution, Verbose
from headshots.cli._validate import image_folder, output_dir, output_file

if TYPE_CHECKING:
    from headshots.intake import IntakeReport
    from headshots.media import FolderScan

SELFIES_HINT = "pass the folder with your selfies (8-20 photos of one person)"


def list_photos(folder: Path, *, what: str = "folder", hint: str = SELFIES_HINT
                ) -> list[tuple[str, Path]]:
    """(name, path) of every photo directly in ``folder``, sorted; a PSD named .jpg counts (the
    check reports it), notes.txt and subfolders do not (they are named on screen)."""
    scan = image_folder(folder, what=what, hint=hint)
    if scan.skipped:
        console.print(f"skipped: {escape(scan.skipped_text())}")
    return [(p.name, p) for p in scan.images]


def _run_check(scan: FolderScan) -> tuple[IntakeReport, list[tuple[str, Path]]]:
    from headshots.faces import default_backend
    from headshots.intake import check_set

    sources: list[tuple[str, Path]] = [(p.name, p) for p in scan.images]
    if scan.skipped:
        console.print(f"skipped: {escape(scan.skipped_text())}")
    backend = default_backend()
    with progress(
        TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
        TimeRemainingColumn(), transient=True,
    ) as bar:
        task = bar.add_task("", total=len(sources))

        def tick(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, description=escape(name))

        report = check_set(sources, backend, on_progress=tick, skipped=scan.skipped)
    return report, sources


def _print_report(report: IntakeReport) -> None:
    table = Table(title="Selfie check", show_lines=False)
    table.add_column("photo")
    table.add_column("verdict")
    table.add_column("why", ratio=1)
    table.add_column("face px", justify="right")
    table.add_column("sharpness", justify="right")
    table.add_column("yaw°", justify="right")
    for p in report.photos:
        verdict = f"[{'green' if p.accepted else 'red'}]{p.verdict}[/]"  # the sheet's word too
        # a decode failure's detail says more than its reason ("cannot be read (Permission
        # denied)"); it starts with the name, which the first column shows already
        why = escape(p.detail.removeprefix(p.file + ": ") if p.detail
                     else "; ".join(p.why()) or "-")
        if p.notes:
            why += f" [yellow]{escape('; '.join(p.notes))}[/]"
        m = p.metrics
        table.add_row(
            escape(p.file), verdict, why, str(m.get("face_height_px", "")),
            str(m.get("sharpness", "")), str(m.get("yaw", "")),
        )
    console.print(table)
    s = report.set
    status = "[green]ready to train[/]" if s.ready else "[red]not ready[/]"
    console.print(f"{s.accepted} accepted of {len(report.photos)} — {status}")
    for line in s.advice:
        console.print(f"  • {escape(line)}")


@app.command()
@friendly_errors
def check(
    folder: Path = typer.Argument(..., help="Folder with 8-20 selfies of one person."),
    json_out: JsonOut = None,
    sheet: Path | None = typer.Option(None, "--sheet", help="Write a contact sheet PNG here."),
    verbose: Verbose = False,
) -> None:
    """Check selfies: which to keep, which to drop and why, and what to add before training."""
    from headshots.intake import render_sheet

    scan = image_folder(folder, what="folder", hint=SELFIES_HINT)
    to_stdout = json_to_stdout(json_out)
    if json_out and not to_stdout:
        output_file(json_out, "--json", "report.json")
    if sheet:
        output_file(sheet, "--sheet", "sheet.png")
    report, sources = _run_check(scan)
    _print_report(report)
    if json_out:
        emit_json(json_out, report.to_json())
        if not to_stdout:
            console.print(f"report: {escape(str(json_out))}")
    if sheet:
        render_sheet(report, sources, sheet)
        console.print(f"contact sheet: {escape(str(sheet))}")


def check_prepare_args(folder: Path, out: Path) -> FolderScan:
    """What `prepare` (and `train` and `run` on selfies) needs, checked before any work."""
    from headshots.store.paths import RunPaths

    scan = image_folder(folder, what="folder", hint=SELFIES_HINT)
    paths = RunPaths(out)
    output_dir(out, "--out", (paths.intake, paths.crops))
    return scan


def _prepare(folder: Path, out: Path, resolution: int, scan: FolderScan | None = None) -> None:
    from headshots.config import IntakeConfig
    from headshots.faces import default_backend
    from headshots.intake import prepare_crops, render_sheet
    from headshots.store.paths import RunPaths

    report, sources = _run_check(scan or check_prepare_args(folder, out))
    _print_report(report)
    paths = RunPaths(out)
    paths.intake.mkdir(parents=True, exist_ok=True)
    paths.intake_report.write_text(report.to_json())
    render_sheet(report, sources, paths.intake_sheet)
    config = IntakeConfig(crop_resolution=resolution)
    crops = prepare_crops(report, sources, default_backend(), paths.crops, config)
    console.print(escape(
        f"{len(crops)} training crops ({resolution}×{resolution}) in {paths.crops}; "
        f"report {paths.intake_report}; sheet {paths.intake_sheet}"
    ))
    if crops.upscaled:
        console.print(
            f"[yellow]note[/]: {len(crops.upscaled)} photo(s) had too few pixels around the face "
            f"for {resolution} px crops and were enlarged (they train softer; see "
            f"{crops.manifest.name}) — closer or higher-resolution selfies help"
        )


@app.command()
@friendly_errors
def prepare(
    folder: Path = typer.Argument(..., help="Folder with 8-20 selfies of one person."),
    out: Path = typer.Option(..., "--out", help="Run folder to write crops and report into."),
    resolution: Resolution = None,
    verbose: Verbose = False,
) -> None:
    """Check the selfies and write aligned, metadata-free training crops of the accepted ones."""
    _prepare(folder, out, resolution or 512, check_prepare_args(folder, out))
