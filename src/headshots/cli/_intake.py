"""``headshots check``, ``prepare`` and ``demo``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from headshots.cli import app
from headshots.cli._common import console, friendly_errors
from headshots.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from headshots.intake import IntakeReport

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".avif"}


def list_photos(folder: Path) -> list[tuple[str, Path]]:
    """Every regular file in ``folder`` (not recursive), sorted; the check itself decides which
    are images, so a PSD named .jpg is reported, not skipped."""
    if not folder.exists():
        raise NotFoundError(f"folder {folder} does not exist", "pass the folder with your selfies")
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder", "pass the folder that holds your selfies")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputError(f"folder {folder} is empty", "put 8-20 selfies of one person in it")
    return [(p.name, p) for p in files]


def _run_check(folder: Path) -> tuple[IntakeReport, list[tuple[str, Path]]]:
    from headshots.faces import default_backend
    from headshots.intake import check_set

    sources = list_photos(folder)
    backend = default_backend()
    with Progress(
        TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
        TimeRemainingColumn(), console=console, transient=True,
    ) as progress:
        task = progress.add_task("", total=len(sources))

        def tick(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, description=name)

        report = check_set(sources, backend, on_progress=tick)
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
        verdict = "[green]keep[/]" if p.accepted else "[red]drop[/]"
        why = "; ".join(r.explanation for r in p.reasons) or "-"
        if p.detail:
            why += f" ({p.detail})"
        m = p.metrics
        table.add_row(
            p.file, verdict, why, str(m.get("face_height_px", "")), str(m.get("sharpness", "")),
            str(m.get("yaw", "")),
        )
    console.print(table)
    s = report.set
    status = "[green]ready to train[/]" if s.ready else "[red]not ready[/]"
    console.print(f"{s.accepted} accepted of {len(report.photos)} — {status}")
    for line in s.advice:
        console.print(f"  • {line}")


@app.command()
@friendly_errors
def check(
    folder: Path = typer.Argument(..., help="Folder with 8-20 selfies of one person."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report as JSON here."),
    sheet: Path | None = typer.Option(None, "--sheet", help="Write a contact sheet PNG here."),
) -> None:
    """Check selfies: which to keep, fix or add, and whether the set is ready to train."""
    from headshots.intake import render_sheet

    report, sources = _run_check(folder)
    _print_report(report)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(report.to_json())
        console.print(f"report: {json_out}")
    if sheet:
        render_sheet(report, sources, sheet)
        console.print(f"contact sheet: {sheet}")


def _prepare(folder: Path, out: Path, resolution: int) -> None:
    from headshots.config import IntakeConfig
    from headshots.faces import default_backend
    from headshots.intake import prepare_crops, render_sheet
    from headshots.store.paths import RunPaths

    report, sources = _run_check(folder)
    _print_report(report)
    paths = RunPaths(out)
    paths.intake.mkdir(parents=True, exist_ok=True)
    paths.intake_report.write_text(report.to_json())
    render_sheet(report, sources, paths.intake_sheet)
    config = IntakeConfig(crop_resolution=resolution)
    crops = prepare_crops(report, sources, default_backend(), paths.crops, config)
    console.print(
        f"{len(crops)} training crops ({resolution}×{resolution}) in {paths.crops}; "
        f"report {paths.intake_report}; sheet {paths.intake_sheet}"
    )
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
    resolution: int = typer.Option(512, min=64, max=2048, help="Side of the square crops."),
) -> None:
    """Check the selfies and write aligned, metadata-free training crops of the accepted ones."""
    _prepare(folder, out, resolution)
