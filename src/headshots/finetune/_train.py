"""DreamBooth-LoRA training on diffusers + peft, resumable, choosing its checkpoint by likeness."""

from __future__ import annotations

import json
import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from headshots._quiet import quiet_libraries
from headshots.errors import ConfigError, ResourceError
from headshots.finetune import _checkpoint as ckpt
from headshots.finetune._config import TrainConfig
from headshots.finetune._data import LatentCache, TrainImages, load_images, step_generator
from headshots.finetune._export import KOHYA_NAME, write_kohya
from headshots.finetune._likeness import LikenessScorer, choose_checkpoint
from headshots.finetune._model import (
    NATIVE_RESOLUTION,
    LoadedModel,
    encode_prompts,
    load_base_model,
    model_fingerprint,
)
from headshots.finetune._plot import plot_training
from headshots.finetune._precision import amp_factory, dtype_name, on_device, precision
from headshots.finetune._sample import sample_images
from headshots.finetune._setup import add_adapters, place, trained_parameters
from headshots.finetune._step import StepContext
from headshots.finetune._validation import (
    describe,
    split_holdout,
    validation_prompts,
    validation_seeds,
)
from headshots.store.paths import RunPaths

__all__ = ["train_lora", "TrainResult", "ProgressFn", "CheckpointFn", "resolve_device"]

ProgressFn = Callable[[int, int, float], None]  # (step done, total steps, loss)
CheckpointFn = Callable[[Path], None]  # called with each finished checkpoint's folder
_RESUMABLE_CHANGES = {"checkpoint_every", "validation_images", "validation_steps",
                      "validation_guidance", "keep_checkpoints"}


@dataclass
class TrainResult:
    lora: Path | None  # None while the run is unfinished (stopped early)
    report: dict[str, Any]
    finished: bool
    kohya: Path | None = None  # the same LoRA in kohya's format (ComfyUI, AUTOMATIC1111)


def resolve_device(device: str, unet_parameters: int, resolution: int) -> torch.device:
    """'auto' picks CUDA when present; a real-size model on CPU needs an explicit 'cpu'."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if unet_parameters > 50_000_000:
            hours = unet_parameters / 1e6 * (resolution / 512) ** 2 * 0.03 * 800 / 3600
            raise ConfigError(
                f"no GPU found, and this {unet_parameters / 1e6:.0f} M-parameter model would train"
                f" on the CPU for roughly {hours:.0f} hours",
                "run on a machine with a GPU, or pass --device cpu to train on the CPU anyway",
            )
        return torch.device("cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} was asked for but no CUDA GPU is available",
                          "pass --device cpu, or run where a GPU is present")
    if device != "cpu" and not device.startswith("cuda"):
        raise ConfigError(f"device must be auto, cpu or cuda, got {device!r}", "pass --device cpu")
    return torch.device(device)


def _check_resumable(state: dict[str, Any], config: TrainConfig, fingerprint: dict[str, str],
                     paths: RunPaths) -> None:
    old = state["history"].get("config", {})
    changed = {k for k, v in config.model_dump(mode="json").items() if old.get(k) != v}
    fix = "use a new --out folder, or pass --no-resume to start over"
    if changed - _RESUMABLE_CHANGES:
        raise ConfigError(
            f"{paths.train} holds a run with other settings ({', '.join(sorted(changed))})", fix)
    was = state["history"].get("fingerprint", {})
    for key, what in (("base_model", "base model"), ("crops", "set of training crops")):
        if was.get(key) != fingerprint[key]:
            raise ConfigError(f"{paths.train} holds a run trained on a different {what}", fix)


def train_lora(
    crops: Path, base_model: str | Path | LoadedModel, run_dir: Path,
    config: TrainConfig | None = None, *, scorer: LikenessScorer | None = None,
    device: str = "auto", resume: bool | None = None, stop_after: int | None = None,
    on_progress: ProgressFn | None = None, on_checkpoint: CheckpointFn | None = None,
) -> TrainResult:
    """Train a LoRA on the square crops in ``crops``; write checkpoints, the chosen LoRA (and its
    kohya copy), ``train_report.json`` and a plot into ``RunPaths(run_dir).train``.

    ``resume`` None resumes when a checkpoint exists, True insists on it, False starts over.
    ``stop_after`` ends this session after that many steps (as an interruption would).
    ``on_checkpoint`` hears of every checkpoint once it is complete on disk (e.g. to copy it
    to durable storage)."""
    config = config or TrainConfig()
    if config.train_text_encoder:
        _require_text_encoder_lora()
    started = time.time()
    paths = RunPaths(run_dir)
    model = base_model if isinstance(base_model, LoadedModel) else load_base_model(base_model)
    res = config.resolution or NATIVE_RESOLUTION[model.arch]
    dev = resolve_device(device, model.unet_parameters, res)
    dtype = precision(config, dev)
    prompts = validation_prompts(config)
    data = load_images(crops, res, config.min_photos)
    train_idx, held_idx = split_holdout(len(data), config)
    fingerprint = {"base_model": model_fingerprint(model), "crops": data.fingerprint}
    existing = ckpt.latest_checkpoint(paths.train)
    if resume is False and paths.train.exists():
        shutil.rmtree(paths.train)
        existing = None
    if resume is True and existing is None:
        raise ConfigError(f"--resume was given but {paths.train} holds no checkpoint",
                          "drop --resume to start a new run")
    state = ckpt.read_state(existing) if existing is not None else None
    if state is not None:
        _check_resumable(state, config, fingerprint, paths)
    paths.train.mkdir(parents=True, exist_ok=True)
    images = data.subset(train_idx) if held_idx else data
    references = [_uint8(data.pixels[i]) for i in (held_idx or train_idx)]
    total = config.total_steps(len(images))

    with quiet_libraries():
        add_adapters(model, config)
        use_ckpt = config.gradient_checkpointing
        if use_ckpt is None:
            use_ckpt = dev.type == "cuda" and model.arch == "sdxl"
        place(model, config, dev, dtype, use_ckpt)
    amp = amp_factory(dev, dtype)
    vae = model.pipe.vae
    class_latents = None
    text_prompts = [config.instance_prompt()]
    if config.prior_preservation:
        class_latents = _class_latents(model, config, paths, res, dev, amp)
        text_prompts.append(config.class_prompt())
    with torch.no_grad():
        cached_text = (encode_prompts(model, text_prompts, dev)
                       if not config.train_text_encoder else None)
    cache = (LatentCache.encode(vae, images.pixels, images.time_ids, dev)
             if config.cache_latents else None)
    if dev.type == "cuda":  # not needed on the accelerator during the loop
        if cache is not None:
            vae.to("cpu")
        if cached_text is not None:
            for enc in model.text_encoders:
                enc.to("cpu")
        torch.cuda.empty_cache()

    from diffusers import DDPMScheduler
    from diffusers.optimization import get_scheduler

    noise_scheduler = DDPMScheduler.from_config(model.pipe.scheduler.config)
    trained = trained_parameters(model, config)
    optimizer = torch.optim.AdamW(trained.values(), lr=config.learning_rate, weight_decay=1e-2)
    lr_scheduler = get_scheduler(config.lr_schedule, optimizer,
                                 num_warmup_steps=config.warmup_steps, num_training_steps=total)
    scaler = torch.amp.GradScaler(dev.type) if dtype == torch.float16 else None
    history: dict[str, Any] = {"loss": [], "checkpoints": [], "eval_loss": [],
                               "resumed_from": None}
    start = 0
    if state is not None:
        ckpt.restore_rng(state)
        with torch.no_grad():
            for name, value in state["params"].items():
                trained[name].copy_(value)
        optimizer.load_state_dict(state["optimizer"])
        lr_scheduler.load_state_dict(state["lr_scheduler"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        start = state["step"]
        history = state["history"]
        history["resumed_from"] = start
    history.update(config=config.model_dump(mode="json"), fingerprint=fingerprint,
                   precision=dtype_name(dtype), resolution=res, upscaled_crops=data.upscaled,
                   validation=describe(config, prompts, train_idx, held_idx))
    ctx = StepContext(model, config, noise_scheduler, images, cache, cached_text, class_latents,
                      dev, res, amp)
    if start == 0 and not history["eval_loss"]:
        history["eval_loss"].append({"step": 0, "loss": ctx.eval_loss()})
    model.pipe.unet.train()
    done_now = 0
    try:
        for step in range(start, total):
            loss_value = 0.0
            for micro in range(config.gradient_accumulation):
                with amp():
                    loss = ctx.loss(step_generator(config.seed, step, micro))
                loss = loss / config.gradient_accumulation
                (scaler.scale(loss) if scaler else loss).backward()
                loss_value += float(loss.detach())
            if scaler:
                scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(list(trained.values()), config.max_grad_norm)
            if scaler:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            history["loss"].append(loss_value)
            done_now += 1
            if on_progress:
                on_progress(step + 1, total, loss_value)
            if (step + 1) % config.checkpoint_every == 0 or step + 1 == total:
                _checkpoint(ctx, paths, step + 1, scorer, references, prompts, history,
                            {"params": trained, "optimizer": optimizer,
                             "lr_scheduler": lr_scheduler, "scaler": scaler})
                if on_checkpoint is not None:
                    on_checkpoint(paths.checkpoint(step + 1))
            if stop_after is not None and done_now >= stop_after and step + 1 < total:
                return TrainResult(lora=None, report=history, finished=False)
    except torch.cuda.OutOfMemoryError as exc:
        raise ResourceError(
            f"the GPU ran out of memory training at {res} px, batch {config.batch_size}, "
            f"{dtype_name(dtype)}",
            "use --batch-size 1, a lower --resolution, or --mixed-precision fp16 where it was "
            "fp32; gradient checkpointing (on by default for SDXL on a GPU) saves the most",
        ) from exc
    return _finish(paths, history, started, model, config)


def _uint8(pixels: torch.Tensor) -> np.ndarray:
    """A [-1, 1] (3, H, W) training tensor back as the RGB uint8 image the scorer takes."""
    return ((pixels.permute(1, 2, 0).numpy() + 1.0) * 127.5).round().clip(0, 255).astype(np.uint8)


def _require_text_encoder_lora() -> None:
    """transformers 5 loads text-encoder adapters only with peft >= 0.22; refuse early rather
    than train a LoRA that cannot be loaded back."""
    from importlib.metadata import version

    from packaging.version import Version

    have = version("peft")
    if Version(have) < Version("0.22.0"):
        raise ConfigError(
            f"train_text_encoder needs peft >= 0.22 (transformers 5 requires it to load "
            f"text-encoder LoRA), but peft {have} is installed",
            "train the UNet LoRA only (the default), or upgrade peft where 0.22 is available",
        )


def _checkpoint(ctx: StepContext, paths: RunPaths, step: int, scorer: LikenessScorer | None,
                references: list[np.ndarray], prompts: list[tuple[str, str]],
                history: dict[str, Any], resume_state: dict[str, Any]) -> None:
    cfg = ctx.config
    directory = paths.checkpoint(step)
    ckpt.save_lora(ctx.model, directory, cfg.train_text_encoder)
    history["eval_loss"].append({"step": step, "loss": ctx.eval_loss()})
    entry: dict[str, Any] = {"step": step, "likeness": None, "faces_found": 0}
    if scorer is not None:
        portraits = sample_images(ctx.model, prompts, validation_seeds(cfg),
                                  steps=cfg.validation_steps, guidance=cfg.validation_guidance,
                                  res=ctx.res, dev=ctx.dev, amp=ctx.amp)
        score = scorer.score(portraits, references)
        entry.update(likeness=score.likeness, faces_found=score.faces_found,
                     images=score.images)
    history["checkpoints"].append(entry)
    ckpt.save_state(directory, step=step, history=history, **resume_state)
    best, _ = choose_checkpoint([(c["step"], c["likeness"]) for c in history["checkpoints"]])
    ckpt.prune(paths.train, cfg.keep_checkpoints, {best})


def _class_latents(model: LoadedModel, config: TrainConfig, paths: RunPaths, res: int,
                   dev: torch.device, amp: Callable[[], Any]) -> LatentCache:
    """Class images for prior preservation: made by the base model (before any LoRA)."""
    from headshots.media import save_clean

    folder = paths.train / "class_images"
    have = len(list(folder.glob("*.png"))) if folder.exists() else 0
    wanted = range(have, config.num_class_images)
    images = sample_images(model, [(config.class_prompt(), "")] * len(wanted),
                           [config.seed + 50_000 + i for i in wanted], steps=25,
                           guidance=7.5, res=res, dev=dev, amp=amp)
    for i, image in zip(wanted, images, strict=True):
        save_clean(image, folder / f"{i:04d}.png")
    pixels: TrainImages = load_images(folder, res, 1)
    with on_device([model.pipe.vae], dev):
        return LatentCache.encode(model.pipe.vae, pixels.pixels, pixels.time_ids, dev)


def _finish(paths: RunPaths, history: dict[str, Any], started: float, model: LoadedModel,
            config: TrainConfig) -> TrainResult:
    step, why = choose_checkpoint([(c["step"], c["likeness"]) for c in history["checkpoints"]])
    shutil.copyfile(paths.checkpoint(step) / ckpt.LORA_NAME, paths.lora)
    kohya = write_kohya(paths.lora, paths.train / KOHYA_NAME, arch=model.arch,
                        alpha=config.alpha, rank=config.rank,
                        layers_per_block=model.pipe.unet.config.layers_per_block)
    peak = (torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available()
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report = {
        **history,
        "chosen_checkpoint": step,
        "chosen_because": why,
        "lora": str(paths.lora),
        "lora_kohya": str(kohya),
        "wall_time_s": round(time.time() - started, 2),
        "peak_memory_mb": round(peak, 1),
        "peak_memory_kind": "cuda_allocated" if torch.cuda.is_available() else "process_rss",
    }
    paths.train_report.write_text(json.dumps(report, indent=2))
    plot_training(report, paths.train / "training.png")
    return TrainResult(lora=paths.lora, report=report, finished=True, kohya=kohya)
