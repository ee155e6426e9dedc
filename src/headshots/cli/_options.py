"""One vocabulary for every command: an option that means the same thing has the same name, help
and default wherever it appears (``--train-steps`` is training, ``--sample-steps`` sampling,
``--candidates`` how many images to make)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "DEFAULT_STYLES", "DEFAULT_WORKERS", "BaseModelSource", "BatchSize", "Candidates",
    "ClassWord", "Device",
    "EarlyReject", "Guidance", "JsonOut", "LearningRate", "Prompt", "Rank", "Resolution", "Seed",
    "SampleSteps", "Styles", "StylesFile", "Token", "Top", "TrainSteps", "Verbose", "Workers",
]

DEFAULT_STYLES = "corporate-grey,navy-blazer,outdoor-natural"
DEFAULT_WORKERS = min(2, os.cpu_count() or 1)  # judging is CPU-bound; most machines have two

BaseModelSource = Annotated[str, typer.Option(
    "--base-model", help="The SD1.5 or SDXL base model: a diffusers folder, or a hub id where "
    "the hub can be reached.")]
Styles = Annotated[str, typer.Option(
    "--styles", help="Comma-separated style ids (`headshots styles` lists them).")]
StylesFile = Annotated[Path | None, typer.Option(
    "--styles-file", help="Your own YAML style file or folder, added to the built-in styles.")]
Prompt = Annotated[str | None, typer.Option(
    "--prompt", help="A look in your own words instead of --styles, e.g. 'red scarf, park'.")]
Seed = Annotated[int, typer.Option(
    "--seed", help="First seed: candidate i uses seed + i, so a run can be made again.")]
ClassWord = Annotated[str | None, typer.Option(
    "--class-word", help="Who the photos show, in your own words: woman, man, person ... "
    "(default: the training run's, else 'person').")]
Token = Annotated[str | None, typer.Option(
    "--token", help="The rare word that stands for you (default: the training run's, else "
    "'sks').")]
Resolution = Annotated[int | None, typer.Option(
    "--resolution", min=64, max=2048, help="Image side in pixels, of training crops and "
    "generated images (default: 512, or 1024 for an SDXL model).")]
TrainSteps = Annotated[int | None, typer.Option(
    "--train-steps", min=1, help="Training steps (default: 100 per photo, 400 to 1500).")]
LearningRate = Annotated[float, typer.Option("--learning-rate", help="AdamW learning rate.")]
Rank = Annotated[int, typer.Option("--rank", help="LoRA rank.")]
SampleSteps = Annotated[int | None, typer.Option(
    "--sample-steps", min=1, help="Sampling steps per image (default: the style's, usually 30).")]
Guidance = Annotated[float | None, typer.Option(
    "--guidance", min=0.0, help="Classifier-free guidance scale (default: the style's).")]
Candidates = Annotated[int, typer.Option("--candidates", min=1, help="How many images to make.")]
Top = Annotated[int | None, typer.Option(
    "--top", min=1, help="How many headshots to select (default: 100 of a 1000-candidate run, "
    "scaled to the run's size, at least 4).")]
Workers = Annotated[int, typer.Option("--workers", min=1, help="Processes that judge.")]
BatchSize = Annotated[int, typer.Option(
    "--batch-size", min=1, help="Images per pass through the model.")]
EarlyReject = Annotated[bool, typer.Option(
    "--early-reject/--no-early-reject",
    help="Stop a candidate part-way when no face is forming (saves GPU time).")]
Device = Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")]
JsonOut = Annotated[Path | None, typer.Option(
    "--json", help="Also write the results as JSON to this file ('-': print them on stdout, "
    "with everything else on stderr).")]
Verbose = Annotated[bool, typer.Option(
    "--verbose", help="Show other libraries' warnings and progress bars (otherwise they go to "
    "the log file, ~/.local/state/headshots/headshots.log).")]
