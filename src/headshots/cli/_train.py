"""``headshots train``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from headshots.cli import app
from headshots.cli._common import console, friendly_errors


def crops_for_training(photos: Path, run: Path, resolution: int) -> Path:
    """A folder of crops: ``photos`` itself when it already holds square crops or a crop
    manifest (or is a run folder with crops/), else the selfies are checked and prepared into
    ``run``/crops."""
    from PIL import Image

    from headshots.cli._intake import _prepare, list_photos
    from headshots.intake import CROP_MANIFEST
    from headshots.store.paths import RunPaths

    if (photos / "crops").is_dir():
        return photos / "crops"
    if (photos / CROP_MANIFEST).is_file():  # written by `headshots prepare`
        return photos
    files = list_photos(photos)
    pngs = [p for _, p in files if p.suffix.lower() == ".png"]
    if pngs and len(pngs) == len(files):
        sizes = {Image.open(p).size for p in pngs}
        if len(sizes) == 1 and (s := sizes.pop())[0] == s[1]:
            return photos
    _prepare(photos, run, resolution)
    return RunPaths(run).crops


@app.command()
@friendly_errors
def train(
    photos: Path = typer.Argument(..., help="Selfies, prepared crops, or a run folder."),
    base_model: str = typer.Option(..., "--base-model", help="Diffusers folder or hub id."),
    out: Path = typer.Option(..., "--out", help="Run folder (checkpoints, LoRA, report)."),
    steps: int | None = typer.Option(None, min=1, help="Steps (default: 100 per photo)."),
    resolution: int | None = typer.Option(None, min=64, help="Default 512 SD1.5, 1024 SDXL."),
    learning_rate: float = typer.Option(1e-4, "--learning-rate", min=0.0),
    rank: int = typer.Option(16, min=1, max=256),
    alpha: int | None = typer.Option(None, min=1, help="LoRA alpha (default: = rank)."),
    checkpoint_every: int = typer.Option(100, "--checkpoint-every", min=1),
    seed: int = typer.Option(0),
    class_word: str = typer.Option("person", "--class-word", help="woman, man, person ..."),
    token: str = typer.Option("sks", help="Rare identity token."),
    batch_size: int = typer.Option(1, "--batch-size", min=1),
    mixed_precision: str = typer.Option("auto", "--mixed-precision", help="auto|no|fp16|bf16"),
    snr_gamma: float | None = typer.Option(None, "--snr-gamma", help="Min-SNR weighting."),
    prior_preservation: bool = typer.Option(False, "--prior-preservation"),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    resume: bool | None = typer.Option(
        None, "--resume/--no-resume", help="Default: resume when a checkpoint exists."
    ),
) -> None:
    """Fine-tune a LoRA on the person's photos; keeps the checkpoint that looks most like them."""
    from pydantic import ValidationError

    from headshots.errors import ConfigError
    from headshots.faces import default_backend
    from headshots.finetune import (
        NATIVE_RESOLUTION,
        FaceLikenessScorer,
        TrainConfig,
        load_base_model,
        train_lora,
    )
    from headshots.finetune._data import list_images

    try:
        config = TrainConfig(
            steps=steps, resolution=resolution, learning_rate=learning_rate, rank=rank,
            alpha=alpha or rank, checkpoint_every=checkpoint_every, seed=seed,
            class_word=class_word, identity_token=token, batch_size=batch_size,
            mixed_precision=mixed_precision, snr_gamma=snr_gamma,
            prior_preservation=prior_preservation,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"--{'-'.join(str(x) for x in err['loc'])}: {err['msg']}",
                          "see headshots train --help") from None
    model = load_base_model(base_model)
    res = config.resolution or NATIVE_RESOLUTION[model.arch]
    crops = crops_for_training(photos, out, res)
    count = len(list_images(crops))
    scorer = FaceLikenessScorer(default_backend())  # the trainer picks the reference photos
    console.print(f"training a {model.arch} LoRA on {count} crops from {crops} at {res} px")
    with Progress(
        TextColumn("training"), BarColumn(), MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("", total=config.total_steps(count), loss=0.0)

        def tick(step: int, total: int, loss: float) -> None:
            progress.update(task, completed=step, total=total, loss=loss)

        result = train_lora(crops, model, out, config, scorer=scorer, device=device,
                            resume=resume, on_progress=tick)
    report = result.report
    if report.get("resumed_from"):
        console.print(f"resumed from step {report['resumed_from']}")
    if report.get("upscaled_crops"):
        console.print(f"[yellow]note[/]: {report['upscaled_crops']} crop(s) were enlarged from a "
                      f"small face; closer or higher-resolution selfies train sharper")
    judged = report["validation"]
    console.print(f"checkpoints judged on {len(judged['styles'])} styles against "
                  + ("held-out selfies" if judged["held_out"] else "the training crops"))
    console.print(f"chosen checkpoint: step {report['chosen_checkpoint']} "
                  f"({report['chosen_because']})")
    console.print(f"LoRA: {result.lora}\nkohya copy (ComfyUI, AUTOMATIC1111): {result.kohya}\n"
                  f"report: {out / 'train' / 'train_report.json'}; "
                  f"plot: {out / 'train' / 'training.png'}")
