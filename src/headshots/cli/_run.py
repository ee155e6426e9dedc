"""``headshots preview`` and ``headshots run``: the whole order, resumable stage by stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from headshots.cli import app
from headshots.cli._common import console, friendly_errors
from headshots.cli._generate import diffusers_generator, plan, run_generation
from headshots.cli._judge import (
    deliver_results,
    early_rejections,
    judge_folder,
    print_summary,
    reference_images,
    write_json,
)
from headshots.cli._options import (
    DEFAULT_STYLES,
    DEFAULT_WORKERS,
    BaseModelSource,
    BatchSize,
    Candidates,
    ClassWord,
    Device,
    EarlyReject,
    Guidance,
    LearningRate,
    Prompt,
    Rank,
    Resolution,
    SampleSteps,
    Seed,
    Styles,
    StylesFile,
    Token,
    Top,
    TrainSteps,
    Verbose,
    Workers,
)
from headshots.cli._validate import base_model as check_base_model
from headshots.cli._validate import device as check_device
from headshots.cli._validate import identity, image_folder, lora_folder, output_dir, train_config
from headshots.cli._validate import styles as check_styles

STAGES = ("prepare", "train", "preview", "generate", "judge", "deliver")
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


@app.command()
@friendly_errors
def run(
    selfies: Path = typer.Argument(..., help="Folder with 8-20 selfies of one person."),
    base_model: BaseModelSource = ...,  # type: ignore[assignment]
    out: Path = typer.Option(..., "--out", help="Run folder (resumable)."),
    style_ids: Styles = DEFAULT_STYLES,
    prompt: Prompt = None,
    styles_file: StylesFile = None,
    candidates: Candidates = 200,
    seed: Seed = 0,
    top: Top = None,
    class_word: ClassWord = None,
    token: Token = None,
    resolution: Resolution = None,
    train_steps: TrainSteps = None,
    learning_rate: LearningRate = 1e-4,
    rank: Rank = 16,
    sample_steps: SampleSteps = None,
    guidance: Guidance = None,
    preview_candidates: int = typer.Option(8, "--preview-candidates", min=1,
                                           help="How many images the preview makes."),
    force: bool = typer.Option(False, "--force", help="Generate even after a no-go preview."),
    allow_unready: bool = typer.Option(False, "--allow-unready",
                                       help="Train even if the check says the set is not ready."),
    early_reject: EarlyReject = True,
    batch_size: BatchSize = 4,
    workers: Workers = DEFAULT_WORKERS,
    device: Device = "auto",
    verbose: Verbose = False,
) -> None:
    """Check, prepare, train, preview, generate, judge, select and deliver in one go.
    Re-running the same command skips the stages that finished."""
    from headshots.cli._intake import _prepare, check_prepare_args
    from headshots.cli._train import _train
    from headshots.errors import PhotoSetError
    from headshots.pipeline import RunState
    from headshots.store.paths import RunPaths

    state, paths = RunState(out), RunPaths(out)
    # every argument is checked before the first slow step
    config = train_config(
        "run", steps=train_steps, resolution=resolution, learning_rate=learning_rate, rank=rank,
        alpha=rank, checkpoint_every=max(1, (train_steps or 400) // 4), seed=seed,
        class_word=class_word, identity_token=token)
    scan = None if state.done("prepare") else check_prepare_args(selfies, out)
    check_base_model(base_model)
    check_device(device)
    chosen = check_styles(style_ids, prompt, styles_file)
    output_dir(out, "--out", paths.all_dirs())
    if state.done("train"):
        identity(lora_folder(out), class_word, token)

    say = lambda stage: console.rule(f"[bold]{stage}")  # noqa: E731
    if state.done("prepare"):
        console.print("prepare: done earlier, skipped")
    else:
        say("check and prepare")
        _prepare(selfies, out, resolution or 512, scan)
        report = json.loads(paths.intake_report.read_text())["set"]
        if not report["ready"] and not allow_unready:
            raise PhotoSetError(
                f"the selfies are not ready to train ({report['accepted']} accepted): "
                + (report["advice"][0] if report["advice"] else ""),
                f"fix them and run again, or pass --allow-unready (report: {paths.intake_report})")
        state.mark("prepare", accepted=report["accepted"])
    if state.done("train"):
        console.print("train: done earlier, skipped")
    else:
        say("train")
        _train(paths.crops, base_model, out, config, device, None, None)
        state.mark("train", lora=str(paths.lora))
    who = identity(lora_folder(out), class_word, token)
    if not state.done("preview"):
        say("preview")
        verdict = _preview(out, base_model, chosen, preview_candidates, who, resolution,
                           sample_steps, guidance, device, seed, paths.crops)
        state.mark("preview", **verdict.to_dict())
    verdict_info = state.info("preview")
    if not verdict_info["go"] and not force:
        console.print("[red]stopped after a no-go preview[/]: " + escape(verdict_info["why"]) +
                      " — fix the fine-tune or selfies, or re-run with --force")
        raise typer.Exit(3)
    if not state.done("generate"):
        say("generate")
        gen = diffusers_generator(base_model, lora_folder(out), device, early_reject)
        requests = plan(chosen, candidates, seed, *who, resolution, sample_steps, guidance,
                        gen.model.arch)
        run_generation(gen, requests, paths.candidates, batch_size)
        state.mark("generate", requests=len(requests))
    if state.done("deliver"):
        console.print(escape(f"judge and deliver: done earlier, skipped; results in "
                             f"{paths.delivery}"))
        return
    say("judge and select")
    from headshots.cli._judge import load_candidates

    results, selected, calibration = judge_folder(
        load_candidates(paths.candidates), reference_images(paths.crops), top, workers)
    early = early_rejections(paths.candidates)
    print_summary(results, selected, calibration, early)
    write_json(paths.judge_report, results, selected, calibration, early)
    state.mark("judge", accepted=sum(r.accepted for r in results), selected=len(selected))
    say("deliver")
    delivered = deliver_results(results, selected, calibration, paths.delivery)
    state.mark("deliver", files=len(delivered.files))
    console.print(escape(f"done: {len(selected)} headshots in {paths.delivery} "
                         f"(contact sheet {delivered.contact_sheet.name})"))
