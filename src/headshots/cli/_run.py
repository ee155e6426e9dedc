"""``headshots preview`` and ``headshots run``: the whole order, resumable stage by stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from headshots.cli import app
from headshots.cli._common import console, friendly_errors
from headshots.cli._generate import diffusers_generator, make_requests, run_generation
from headshots.cli._judge import (
    deliver_results,
    early_rejections,
    judge_folder,
    print_summary,
    reference_images,
    write_json,
)

STAGES = ("prepare", "train", "preview", "generate", "judge", "deliver")


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


@app.command()
@friendly_errors
def run(
    selfies: Path = typer.Argument(..., help="Folder with 8-20 selfies of one person."),
    base_model: str = typer.Option(..., "--base-model", help="Diffusers folder or hub id."),
    out: Path = typer.Option(..., "--out", help="Run folder (resumable)."),
    style_ids: str = typer.Option("corporate-grey,navy-blazer,outdoor-natural", "--styles"),
    candidates: int = typer.Option(200, "--candidates", min=1),
    top: int = typer.Option(100, "--top", min=1, help="K of 1000 candidates (scaled)."),
    class_word: str = typer.Option("person", "--class-word", help="Your choice: woman, man..."),
    token: str = typer.Option("sks"),
    resolution: int | None = typer.Option(None, min=64),
    train_steps: int | None = typer.Option(None, "--train-steps", min=1),
    learning_rate: float = typer.Option(1e-4, "--learning-rate"),
    rank: int = typer.Option(16, min=1),
    sample_steps: int | None = typer.Option(None, "--sample-steps", min=1),
    preview_count: int = typer.Option(8, "--preview-count", min=1),
    force: bool = typer.Option(False, "--force", help="Generate even after a no-go preview."),
    allow_unready: bool = typer.Option(False, "--allow-unready",
                                       help="Train even if the check says the set is not ready."),
    early_reject: bool = typer.Option(True, "--early-reject/--no-early-reject"),
    workers: int = typer.Option(2, "--workers", min=1),
    device: str = typer.Option("auto"),
) -> None:
    """Check, prepare, train, preview, generate, judge, select and deliver in one go.
    Re-running the same command skips the stages that finished."""
    from headshots.cli._intake import _prepare
    from headshots.cli._train import train as train_cmd
    from headshots.errors import PhotoSetError
    from headshots.pipeline import RunState
    from headshots.store.paths import RunPaths

    state, paths = RunState(out), RunPaths(out)
    say = lambda stage: console.rule(f"[bold]{stage}")  # noqa: E731
    if state.done("prepare"):
        console.print("prepare: done earlier, skipped")
    else:
        say("check and prepare")
        from headshots.finetune import native_resolution

        _prepare(selfies, out, resolution or native_resolution(base_model) or 512)
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
        train_cmd(photos=paths.crops, base_model=base_model, out=out, steps=train_steps,
                  resolution=resolution, learning_rate=learning_rate, rank=rank, alpha=None,
                  checkpoint_every=max(1, (train_steps or 400) // 4), seed=0,
                  class_word=class_word, token=token, batch_size=1, mixed_precision="auto",
                  snr_gamma=None, prior_preservation=False, device=device, resume=None)
        state.mark("train", lora=str(paths.lora))
    if not state.done("preview"):
        say("preview")
        verdict = _preview(out, base_model, style_ids, preview_count, class_word, token,
                           resolution, sample_steps, device)
        state.mark("preview", **verdict.to_dict())
    verdict_info = state.info("preview")
    if not verdict_info["go"] and not force:
        console.print("[red]stopped after a no-go preview[/]: " + verdict_info["why"] +
                      " — fix the fine-tune or selfies, or re-run with --force")
        raise typer.Exit(3)
    if not state.done("generate"):
        say("generate")
        gen = diffusers_generator(base_model, out, device, early_reject)
        requests = make_requests(style_ids, None, None, candidates, 0, class_word, token,
                                 resolution, sample_steps, None, gen.model.arch)
        run_generation(gen, requests, paths.candidates, 4)
        state.mark("generate", requests=len(requests))
    if state.done("deliver"):
        console.print(f"judge and deliver: done earlier, skipped; results in {paths.delivery}")
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
    console.print(f"done: {len(selected)} headshots in {paths.delivery} "
                  f"(contact sheet {delivered.contact_sheet.name})")
