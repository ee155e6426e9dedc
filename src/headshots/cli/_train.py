"""``headshots train``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from headshots.cli import app
from headshots.cli._common import console, friendly_errors, progress
from headshots.cli._options import (
    BaseModelSource,
    BatchSize,
    ClassWord,
    Device,
    LearningRate,
    Rank,
    Resolution,
    Seed,
    Token,
    TrainSteps,
    Verbose,
)
from headshots.cli._validate import base_model as check_base_model
from headshots.cli._validate import device as check_device
from headshots.cli._validate import image_folder, output_dir, train_config

if TYPE_CHECKING:
    from headshots.media import FolderScan


def crops_for_training(photos: Path, run: Path, resolution: int,
                       scan: FolderScan | None = None) -> Path:
    """A folder of crops: ``photos`` itself when it already holds square crops or a crop
    manifest (or is a run folder with crops/), else the selfies are checked and prepared into
    ``run``/crops."""
    from PIL import Image

    from headshots.cli._intake import _prepare
    from headshots.intake import CROP_MANIFEST
    from headshots.store.paths import RunPaths

    if (photos / "crops").is_dir():
        return photos / "crops"
    if (photos / CROP_MANIFEST).is_file():  # written by `headshots prepare`
        return photos
    scan = scan or image_folder(photos, what="folder", hint=_PHOTOS_HINT)
    pngs = [p for p in scan.images if p.suffix.lower() == ".png"]
    if pngs and len(pngs) == len(scan.images):
        sizes = set()
        for p in pngs:
            with Image.open(p) as im:
                sizes.add(im.size)
        if len(sizes) == 1 and (s := sizes.pop())[0] == s[1]:
            return photos
    _prepare(photos, run, resolution, scan)
    return RunPaths(run).crops


_PHOTOS_HINT = "pass the folder with your selfies, a folder of prepared crops, or a run folder"


def check_train_args(photos: Path, base_model: str, out: Path) -> FolderScan | None:
    """The photos, the base model (cheaply) and the run folder, before the model is loaded;
    returns the scan of ``photos`` unless it is a run folder with crops/."""
    from headshots.store.paths import RunPaths

    scan = None
    if not (photos / "crops").is_dir():
        scan = image_folder(photos, what="folder", hint=_PHOTOS_HINT)
    check_base_model(base_model)
    paths = RunPaths(out)
    output_dir(out, "--out", (paths.intake, paths.crops, paths.train))
    return scan


def _train(photos: Path, base_model: str, out: Path, config: Any, device: str,
           resume: bool | None, scan: FolderScan | None) -> None:
    from headshots.faces import default_backend
    from headshots.finetune import (
        NATIVE_RESOLUTION,
        FaceLikenessScorer,
        load_base_model,
        train_lora,
    )
    from headshots.finetune._data import list_images

    model = load_base_model(base_model)
    res = config.resolution or NATIVE_RESOLUTION[model.arch]
    crops = crops_for_training(photos, out, res, scan)
    count = len(list_images(crops))
    scorer = FaceLikenessScorer(default_backend())  # the trainer picks the reference photos
    console.print(escape(f"training a {model.arch} LoRA on {count} crops from {crops} at "
                         f"{res} px"))
    with progress(
        TextColumn("training"), BarColumn(), MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn(), TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task("", total=config.total_steps(count), loss=0.0)

        def tick(step: int, total: int, loss: float) -> None:
            bar.update(task, completed=step, total=total, loss=loss)

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
                  f"({escape(str(report['chosen_because']))})")
    console.print(escape(f"LoRA: {result.lora}\nkohya copy (ComfyUI, AUTOMATIC1111): "
                         f"{result.kohya}\nreport: {out / 'train' / 'train_report.json'}; "
                         f"plot: {out / 'train' / 'training.png'}"))


@app.command()
@friendly_errors
def train(
    photos: Path = typer.Argument(..., help="Selfies, prepared crops, or a run folder."),
    base_model: BaseModelSource = ...,  # type: ignore[assignment]
    out: Path = typer.Option(..., "--out", help="Run folder (checkpoints, LoRA, report)."),
    train_steps: TrainSteps = None,
    resolution: Resolution = None,
    learning_rate: LearningRate = 1e-4,
    rank: Rank = 16,
    alpha: int | None = typer.Option(None, "--alpha", help="LoRA alpha (default: = rank)."),
    checkpoint_every: int = typer.Option(100, "--checkpoint-every",
                                         help="Steps between checkpoints."),
    seed: Seed = 0,
    class_word: ClassWord = None,
    token: Token = None,
    batch_size: BatchSize = 1,
    mixed_precision: str = typer.Option("auto", "--mixed-precision", help="auto|no|fp16|bf16"),
    snr_gamma: float | None = typer.Option(None, "--snr-gamma", help="Min-SNR weighting."),
    prior_preservation: bool = typer.Option(False, "--prior-preservation"),
    device: Device = "auto",
    resume: bool | None = typer.Option(
        None, "--resume/--no-resume", help="Default: resume when a checkpoint exists."
    ),
    verbose: Verbose = False,
) -> None:
    """Fine-tune a LoRA on the person's photos; keeps the checkpoint that looks most like them."""
    config = train_config(
        "train", steps=train_steps, resolution=resolution, learning_rate=learning_rate,
        rank=rank, alpha=alpha or rank, checkpoint_every=checkpoint_every, seed=seed,
        class_word=class_word, identity_token=token, batch_size=batch_size,
        mixed_precision=mixed_precision, snr_gamma=snr_gamma,
        prior_preservation=prior_preservation)
    check_device(device)
    scan = check_train_args(photos, base_model, out)
    _train(photos, base_model, out, config, device, resume, scan)
