"""``headshots preview``: a small batch and a go / no-go verdict for a trained run folder.
(``headshots run`` is an order of the workflow: see ``_orders.py``.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from headshots.cli import app
from headshots.cli._common import console, friendly_errors
from headshots.cli._generate import diffusers_generator, make_requests, run_generation
from headshots.cli._judge import (
    judge_folder,
    reference_images,
)


def _preview(run: Path, base_model: str, style_ids: str, count: int, class_word: str,
             token: str, resolution: int | None, steps: int | None, device: str) -> Any:
    from headshots.pipeline import preview_verdict
    from headshots.store.paths import RunPaths

    paths = RunPaths(run)
    gen = diffusers_generator(base_model, run, device, early=False)
    requests = make_requests(style_ids, None, None, count, 10_000, class_word, token, resolution,
                             steps, None, gen.model.arch)
    candidates, _ = run_generation(gen, requests, paths.preview, 4, "preview")
    results, selected, calibration = judge_folder(candidates, reference_images(paths.crops),
                                                  count, 1)
    verdict = preview_verdict(results)
    (paths.preview / "verdict.json").write_text(json.dumps(verdict.to_dict(), indent=2))
    colour = "green" if verdict.go else "red"
    console.print(f"[{colour}]preview: {'GO' if verdict.go else 'NO-GO'}[/] — {verdict.why}")
    return verdict


@app.command()
@friendly_errors
def preview(
    run: Path = typer.Argument(..., help="Run folder of `headshots train`."),
    base_model: str = typer.Option(..., "--base-model"),
    style_ids: str = typer.Option("corporate-grey,navy-blazer", "--styles"),
    count: int = typer.Option(8, "--count", min=1),
    class_word: str = typer.Option("person", "--class-word"),
    token: str = typer.Option("sks"),
    resolution: int | None = typer.Option(None, min=64),
    steps: int | None = typer.Option(None, min=1),
    device: str = typer.Option("auto"),
) -> None:
    """A small batch with likeness scores and a go / no-go verdict before the full run."""
    _preview(run, base_model, style_ids, count, class_word, token, resolution, steps, device)
