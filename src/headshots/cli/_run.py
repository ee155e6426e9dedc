"""``headshots preview``: a small batch and a go / no-go verdict for a trained run folder.
(``headshots run`` is an order of the workflow: see ``_orders.py``.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from headshots.cli import app
from headshots.cli._common import console, friendly_errors
from headshots.cli._generate import diffusers_generator, plan, run_generation
from headshots.cli._judge import judge_folder, reference_images
from headshots.cli._options import (
    DEFAULT_STYLES,
    BaseModelSource,
    Candidates,
    ClassWord,
    Device,
    Guidance,
    Prompt,
    Resolution,
    SampleSteps,
    Seed,
    Styles,
    StylesFile,
    Token,
    Verbose,
)
from headshots.cli._validate import base_model as check_base_model
from headshots.cli._validate import device as check_device
from headshots.cli._validate import identity, image_folder, lora_folder, output_dir
from headshots.cli._validate import styles as check_styles

PREVIEW_SEEDS = 10_000  # preview seeds start here, so they never repeat the full run's


def _preview(run: Path, base_model: str, chosen: list[Any], count: int, who: tuple[str, str],
             resolution: int | None, steps: int | None, guidance: float | None, device: str,
             seed: int, reference: Path) -> Any:
    from headshots.pipeline import preview_verdict
    from headshots.store.paths import RunPaths

    paths = RunPaths(run)
    gen = diffusers_generator(base_model, lora_folder(run), device, early=False)
    requests = plan(chosen, count, PREVIEW_SEEDS + seed, *who, resolution, steps, guidance,
                    gen.model.arch)
    candidates, _ = run_generation(gen, requests, paths.preview, 4, "preview")
    results, selected, calibration = judge_folder(candidates, reference_images(reference),
                                                  count, 1)
    verdict = preview_verdict(results)
    (paths.preview / "verdict.json").write_text(json.dumps(verdict.to_dict(), indent=2))
    colour = "green" if verdict.go else "red"
    console.print(f"[{colour}]preview: {'GO' if verdict.go else 'NO-GO'}[/] — "
                  f"{escape(verdict.why)}")
    return verdict


_REFERENCE_HINT = ("pass --reference with the person's own photos (a run folder has them in "
                   "crops/ once `headshots prepare` ran)")


@app.command()
@friendly_errors
def preview(
    run: Path = typer.Argument(..., help="Run folder of `headshots train`."),
    base_model: BaseModelSource = ...,  # type: ignore[assignment]
    style_ids: Styles = DEFAULT_STYLES,
    prompt: Prompt = None,
    styles_file: StylesFile = None,
    candidates: Candidates = 8,
    seed: Seed = 0,
    class_word: ClassWord = None,
    token: Token = None,
    resolution: Resolution = None,
    sample_steps: SampleSteps = None,
    guidance: Guidance = None,
    reference: Path | None = typer.Option(
        None, "--reference", help="The person's own photos (default: the run's crops/)."),
    device: Device = "auto",
    verbose: Verbose = False,
) -> None:
    """A small batch with likeness scores and a go / no-go verdict before the full run."""
    from headshots.store.paths import RunPaths

    chosen = check_styles(style_ids, prompt, styles_file)
    who = identity(lora_folder(run, "run folder"), class_word, token)
    check_base_model(base_model)
    check_device(device)
    reference = reference or RunPaths(run).crops
    image_folder(reference, what="reference folder", hint=_REFERENCE_HINT)
    output_dir(RunPaths(run).preview, "run folder")
    _preview(run, base_model, chosen, candidates, who, resolution, sample_steps, guidance,
             device, seed, reference)
