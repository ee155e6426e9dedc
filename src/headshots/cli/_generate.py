"""``headshots styles`` and ``headshots generate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from headshots.cli import app
from headshots.cli._common import console, friendly_errors, progress
from headshots.cli._options import (
    DEFAULT_STYLES,
    BaseModelSource,
    BatchSize,
    Candidates,
    ClassWord,
    Device,
    EarlyReject,
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
from headshots.cli._validate import identity, lora_folder, output_dir
from headshots.cli._validate import styles as check_styles


@app.command()
@friendly_errors
def styles(styles_dir: StylesFile = None, verbose: Verbose = False) -> None:
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
    return progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.description}"), TimeRemainingColumn())


choose_styles = check_styles  # the chosen styles (or the prompt's), before any model loads


def make_requests(style_ids: str, prompt: str | None, styles_file: Path | None, count: int,
                  seed: int, class_word: str, token: str, resolution: int | None,
                  steps: int | None, guidance: float | None, arch: str) -> list[Any]:
    return plan(check_styles(style_ids, prompt, styles_file), count, seed, token, class_word,
                resolution, steps, guidance, arch)


def plan(chosen: list[Any], count: int, seed: int, token: str, class_word: str,
         resolution: int | None, steps: int | None, guidance: float | None, arch: str
         ) -> list[Any]:
    """The requests for already validated styles."""
    from headshots.generate import Identity, plan_requests

    res = resolution or (512 if arch == "sd15" else 1024)
    return plan_requests(chosen, Identity(token=token, class_word=class_word), count, seed=seed,
                         size=(res, res), steps=steps, guidance=guidance)


def run_generation(generator: Any, requests: list[Any], out: Path, batch_size: int,
                   label: str = "generating", refresh: bool = False
                   ) -> tuple[list[Any], list[dict[str, Any]]]:
    from headshots.generate import generate_candidates

    with progress_bar(label) as bar:
        task = bar.add_task("", total=len(requests))

        def tick(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, description=escape(name))

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
    base_model: BaseModelSource = ...,  # type: ignore[assignment]
    out: Path = typer.Option(..., "--out", help="Folder for candidates + index.jsonl."),
    style_ids: Styles = DEFAULT_STYLES,
    prompt: Prompt = None,
    styles_file: StylesFile = None,
    candidates: Candidates = 200,
    seed: Seed = 0,
    class_word: ClassWord = None,
    token: Token = None,
    resolution: Resolution = None,
    sample_steps: SampleSteps = None,
    guidance: Guidance = None,
    batch_size: BatchSize = 4,
    early_reject: EarlyReject = True,
    device: Device = "auto",
    precision: str = typer.Option(
        "auto", "--precision", help="auto (fp16 on a GPU, fp32 on the CPU), fp32, fp16 or bf16."),
    safety_checker: bool = typer.Option(
        True, "--safety-checker/--no-safety-checker",
        help="Run the model's safety checker (SD1.5 has one); flagged images are dropped."),
    compile_unet: bool = typer.Option(False, "--compile", help="torch.compile the UNet (GPU)."),
    refresh: bool = typer.Option(
        False, "--refresh", help="Discard candidates in --out made with other settings."),
    verbose: Verbose = False,
) -> None:
    """Generate candidates in the chosen styles; seeds and settings are recorded per image.
    Re-running the same command carries on where it stopped."""
    from headshots.generate import (
        check_candidates,
        diffusers_fingerprint,
        pick_device,
        resolve_precision,
    )

    chosen = check_styles(style_ids, prompt, styles_file)
    lora_dir = lora_folder(lora) if lora is not None else None
    who = identity(lora_dir, class_word, token)
    check_base_model(base_model)
    check_device(device)
    output_dir(out, "--out")
    config = generation_config(precision, safety_checker, compile_unet, device)
    if not refresh:  # before the slow load; the requests' own fields are checked once built
        working = resolve_precision(precision, pick_device(device))
        check_candidates(out, diffusers_fingerprint(base_model, lora_dir, config, working,
                                                    early=early_reject))
    gen = diffusers_generator(base_model, lora_dir, device, early_reject, config)
    requests = plan(chosen, candidates, seed, *who, resolution, sample_steps, guidance,
                    gen.model.arch)
    made, records = run_generation(gen, requests, out, batch_size, refresh=refresh)
    flagged = sum(1 for r in records if r["settings"].get("early_rejected") == "nsfw")
    stopped = sum(1 for r in records if not r["file"]) - flagged
    evals = sum(r["settings"].get("unet_evals", 0) for r in records)
    console.print(escape(f"{len(made)} candidates in {out} ({stopped} stopped early, {flagged} "
                         f"flagged by the safety checker); {evals} UNet evaluations; "
                         f"index: {out / 'index.jsonl'}"))
