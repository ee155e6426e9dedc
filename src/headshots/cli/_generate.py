"""``headshots styles`` and ``headshots generate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from headshots.cli import app
from headshots.cli._common import console, friendly_errors


@app.command()
@friendly_errors
def styles(
    styles_dir: Path | None = typer.Option(None, "--styles-file", help="Your own YAML styles."),
) -> None:
    """List the styles (wardrobe x backdrop x lighting)."""
    from headshots.generate import load_styles

    table = Table(title="Styles")
    table.add_column("id", no_wrap=True)
    for col in ("title", "wardrobe", "backdrop", "lighting"):
        table.add_column(col)
    for s in load_styles(styles_dir).values():
        table.add_row(s.id, s.title, s.wardrobe, s.backdrop, s.lighting)
    console.print(table)


def progress_bar(label: str) -> Progress:
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.description}"), TimeRemainingColumn(), console=console)


def choose_styles(style_ids: str, prompt: str | None, styles_file: Path | None) -> list[Any]:
    """The chosen styles (or the custom prompt's), checked before any model is loaded."""
    from headshots.generate import custom_style, load_styles, pick_styles

    return ([custom_style(prompt)] if prompt
            else pick_styles(load_styles(styles_file), style_ids))


def make_requests(style_ids: str, prompt: str | None, styles_file: Path | None, count: int,
                  seed: int, class_word: str, token: str, resolution: int | None,
                  steps: int | None, guidance: float | None, arch: str) -> list[Any]:
    from headshots.generate import Identity, plan_requests

    chosen = choose_styles(style_ids, prompt, styles_file)
    res = resolution or (512 if arch == "sd15" else 1024)
    return plan_requests(chosen, Identity(token=token, class_word=class_word), count, seed=seed,
                         size=(res, res), steps=steps, guidance=guidance)


def run_generation(generator: Any, requests: list[Any], out: Path, batch_size: int,
                   label: str = "generating", refresh: bool = False
                   ) -> tuple[list[Any], list[dict[str, Any]]]:
    from headshots.generate import generate_candidates

    with progress_bar(label) as progress:
        task = progress.add_task("", total=len(requests))

        def tick(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, description=name)

        return generate_candidates(generator, requests, out, batch_size=batch_size,
                                   on_progress=tick, refresh=refresh)


def diffusers_generator(base_model: str, lora: Path | None, device: str, early: bool,
                        config: Any = None) -> Any:
    from headshots.faces import default_backend
    from headshots.generate import DiffusersGenerator, face_early_check

    check = face_early_check(default_backend()) if early else None
    return DiffusersGenerator(base_model, lora=lora, config=config, device=device,
                              early_check=check)


def generation_config(precision: str, safety_checker: bool, compile_unet: bool, device: str
                      ) -> Any:
    """The typed settings, checked (with the device) before anything is loaded."""
    from headshots.generate import GenerateConfig, pick_device, resolve_precision

    resolve_precision(precision, pick_device(device))
    return GenerateConfig(precision=precision, safety_checker=safety_checker,
                          compile_unet=compile_unet)


@app.command()
@friendly_errors
def generate(
    lora: Path | None = typer.Option(None, "--lora", help="Run folder of `headshots train`."),
    base_model: str = typer.Option(..., "--base-model", help="Diffusers folder or hub id."),
    style_ids: str = typer.Option("corporate-grey", "--styles", help="Comma-separated ids."),
    prompt: str | None = typer.Option(None, "--prompt", help="A custom look instead of styles."),
    styles_file: Path | None = typer.Option(None, "--styles-file", help="Your own YAML styles."),
    count: int = typer.Option(8, "--count", min=1, help="Candidates to make."),
    out: Path = typer.Option(..., "--out", help="Folder for candidates + index.jsonl."),
    seed: int = typer.Option(0),
    class_word: str = typer.Option("person", "--class-word"),
    token: str = typer.Option("sks"),
    resolution: int | None = typer.Option(None, min=64),
    steps: int | None = typer.Option(None, min=1),
    guidance: float | None = typer.Option(None, min=0.0),
    batch_size: int = typer.Option(4, "--batch-size", min=1),
    early_reject: bool = typer.Option(True, "--early-reject/--no-early-reject"),
    device: str = typer.Option("auto"),
    precision: str = typer.Option(
        "auto", help="auto (fp16 on a GPU, fp32 on the CPU), fp32, fp16 or bf16."),
    safety_checker: bool = typer.Option(
        True, "--safety-checker/--no-safety-checker",
        help="Run the model's safety checker (SD1.5 has one); flagged images are dropped."),
    compile_unet: bool = typer.Option(False, "--compile", help="torch.compile the UNet (GPU)."),
    refresh: bool = typer.Option(
        False, "--refresh", help="Discard candidates in --out made with other settings."),
) -> None:
    """Generate candidates in the chosen styles; seeds and settings are recorded per image."""
    from headshots.generate import (
        check_candidates,
        diffusers_fingerprint,
        pick_device,
        resolve_precision,
    )

    choose_styles(style_ids, prompt, styles_file)
    config = generation_config(precision, safety_checker, compile_unet, device)
    if not refresh:  # before the slow load; the requests' own fields are checked once built
        working = resolve_precision(precision, pick_device(device))
        check_candidates(out, diffusers_fingerprint(base_model, lora, config, working,
                                                    early=early_reject))
    gen = diffusers_generator(base_model, lora, device, early_reject, config)
    requests = make_requests(style_ids, prompt, styles_file, count, seed, class_word, token,
                             resolution, steps, guidance, gen.model.arch)
    candidates, records = run_generation(gen, requests, out, batch_size, refresh=refresh)
    flagged = sum(1 for r in records if r["settings"].get("early_rejected") == "nsfw")
    stopped = sum(1 for r in records if not r["file"]) - flagged
    evals = sum(r["settings"].get("unet_evals", 0) for r in records)
    console.print(f"{len(candidates)} candidates in {out} ({stopped} stopped early, {flagged} "
                  f"flagged by the safety checker); {evals} UNet evaluations; "
                  f"index: {out / 'index.jsonl'}")
