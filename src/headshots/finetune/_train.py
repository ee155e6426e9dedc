"""DreamBooth-LoRA training on diffusers + peft, resumable, choosing its checkpoint by likeness."""

from __future__ import annotations

import json
import resource
import shutil
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from headshots.errors import ConfigError, ResourceError
from headshots.finetune import _checkpoint as ckpt
from headshots.finetune._config import TrainConfig
from headshots.finetune._data import LatentCache, load_images, step_generator
from headshots.finetune._likeness import LikenessScorer, choose_checkpoint
from headshots.finetune._model import LoadedModel, encode_prompts, load_base_model
from headshots.finetune._plot import plot_training
from headshots.finetune._step import StepContext
from headshots.store.paths import RunPaths

__all__ = ["train_lora", "TrainResult", "ProgressFn", "CheckpointFn", "resolve_device"]

ProgressFn = Callable[[int, int, float], None]  # (step done, total steps, loss)
CheckpointFn = Callable[[Path], None]  # called with each finished checkpoint's folder
_RESUMABLE_CHANGES = {"checkpoint_every", "validation_images", "validation_steps",
                      "validation_guidance"}
_LORA_TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]
_TEXT_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]


@dataclass
class TrainResult:
    lora: Path | None  # None while the run is unfinished (stopped early)
    report: dict[str, Any]
    finished: bool


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


def _precision(config: TrainConfig, device: torch.device) -> torch.dtype:
    if device.type != "cuda" or config.mixed_precision == "no":
        return torch.float32
    if config.mixed_precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if config.mixed_precision == "bf16" else torch.float16


def train_lora(
    crops: Path, base_model: str | Path | LoadedModel, run_dir: Path,
    config: TrainConfig | None = None, *, scorer: LikenessScorer | None = None,
    device: str = "auto", resume: bool | None = None, stop_after: int | None = None,
    on_progress: ProgressFn | None = None, on_checkpoint: CheckpointFn | None = None,
) -> TrainResult:
    """Train a LoRA on the square crops in ``crops``; write checkpoints, the chosen LoRA,
    ``train_report.json`` and a plot into ``RunPaths(run_dir).train``.

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
    res = config.resolution or (512 if model.arch == "sd15" else 1024)
    dev = resolve_device(device, model.unet_parameters, res)
    dtype = _precision(config, dev)
    images = load_images(crops, res, config.min_photos)
    total = config.total_steps(len(images))
    existing = ckpt.latest_checkpoint(paths.train)
    if resume is False and paths.train.exists():
        shutil.rmtree(paths.train)
        existing = None
    if resume is True and existing is None:
        raise ConfigError(f"--resume was given but {paths.train} holds no checkpoint",
                          "drop --resume to start a new run")
    paths.train.mkdir(parents=True, exist_ok=True)

    pipe = model.pipe
    unet, vae = pipe.unet, pipe.vae
    for module in [unet, vae, *model.text_encoders]:
        module.requires_grad_(False)
    from peft import LoraConfig

    torch.manual_seed(config.seed)  # the LoRA's gaussian init
    unet.add_adapter(LoraConfig(r=config.rank, lora_alpha=config.alpha,
                                init_lora_weights="gaussian", target_modules=_LORA_TARGETS))
    if config.train_text_encoder:
        for enc in model.text_encoders:
            enc.add_adapter(LoraConfig(r=config.rank, lora_alpha=config.alpha,
                                       init_lora_weights="gaussian", target_modules=_TEXT_TARGETS))
    use_ckpt = config.gradient_checkpointing
    if use_ckpt is None:
        use_ckpt = dev.type == "cuda" and model.arch == "sdxl"
    if use_ckpt:
        unet.enable_gradient_checkpointing()
    # Frozen parts in half precision on the GPU; trained LoRA weights stay fp32.
    unet.to(dev)
    if dtype != torch.float32:
        unet.to(dtype=dtype)
    for p in unet.parameters():
        if p.requires_grad:
            p.data = p.data.float()
    vae.to(dev)
    if dtype == torch.bfloat16:  # an fp16 VAE overflows; bf16 is fine
        vae.to(dtype=dtype)
    for enc in model.text_encoders:
        enc.to(dev)
        if dtype != torch.float32:
            enc.to(dtype=dtype)

    prompts = [config.instance_prompt()]
    class_latents = None
    if config.prior_preservation:
        class_latents = _class_latents(model, config, paths, res, dev)
        prompts.append(config.class_prompt())
    with torch.no_grad():
        cached_text = encode_prompts(model, prompts, dev) if not config.train_text_encoder else None
    cache = LatentCache.encode(vae, images, dev, vae.dtype) if config.cache_latents else None
    if dev.type == "cuda":  # not needed on the accelerator during the loop
        if cache is not None:
            vae.to("cpu")
        if cached_text is not None:
            for enc in model.text_encoders:
                enc.to("cpu")
        torch.cuda.empty_cache()

    from diffusers import DDPMScheduler
    from diffusers.optimization import get_scheduler

    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    trained = {f"unet.{n}": p for n, p in unet.named_parameters() if p.requires_grad}
    if config.train_text_encoder:
        for i, enc in enumerate(model.text_encoders):
            for n, p in enc.named_parameters():
                if p.requires_grad:
                    p.data = p.data.float()
                    trained[f"text_encoder{i}.{n}"] = p
    optimizer = torch.optim.AdamW(trained.values(), lr=config.learning_rate, weight_decay=1e-2)
    lr_scheduler = get_scheduler(config.lr_schedule, optimizer,
                                 num_warmup_steps=config.warmup_steps, num_training_steps=total)
    history: dict[str, Any] = {"loss": [], "checkpoints": [], "eval_loss": [],
                               "resumed_from": None}
    start = 0
    if existing is not None:
        state = ckpt.load_state(existing)
        old = state["history"].get("config", {})
        changed = {k for k, v in config.model_dump(mode="json").items() if old.get(k) != v}
        if changed - _RESUMABLE_CHANGES:
            raise ConfigError(
                f"{paths.train} holds a run with other settings ({', '.join(sorted(changed))})",
                "use a new --out folder, or pass --no-resume to start over",
            )
        with torch.no_grad():
            for name, value in state["params"].items():
                trained[name].copy_(value)
        optimizer.load_state_dict(state["optimizer"])
        lr_scheduler.load_state_dict(state["lr_scheduler"])
        start = state["step"]
        history = state["history"]
        history["resumed_from"] = start
    history["config"] = config.model_dump(mode="json")
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    autocast = (torch.autocast("cuda", dtype=dtype) if dev.type == "cuda" and dtype != torch.float32
                else nullcontext())
    ctx = StepContext(model, config, noise_scheduler, images, cache, cached_text, class_latents,
                       dev, res)
    if start == 0 and not history["eval_loss"]:
        history["eval_loss"].append({"step": 0, "loss": ctx.eval_loss()})
    unet.train()
    done_now = 0
    try:
        for step in range(start, total):
            loss_value = 0.0
            for micro in range(config.gradient_accumulation):
                with autocast:
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
                _checkpoint(ctx, paths, step + 1, scorer, history, trained, optimizer,
                            lr_scheduler)
                if on_checkpoint is not None:
                    on_checkpoint(paths.checkpoint(step + 1))
            if stop_after is not None and done_now >= stop_after and step + 1 < total:
                return TrainResult(lora=None, report=history, finished=False)
    except torch.cuda.OutOfMemoryError as exc:
        raise ResourceError(
            f"the GPU ran out of memory training at {res} px, batch {config.batch_size}",
            "enable gradient checkpointing, use --batch-size 1, a lower --resolution, or "
            "--mixed-precision fp16",
        ) from exc
    return _finish(paths, history, started)


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
                history: dict[str, Any], trained: dict[str, torch.Tensor], optimizer: Any,
                lr_scheduler: Any) -> None:
    directory = paths.checkpoint(step)
    ckpt.save_lora(ctx.model, directory, ctx.config.train_text_encoder)
    history["eval_loss"].append({"step": step, "loss": ctx.eval_loss()})
    entry: dict[str, Any] = {"step": step, "likeness": None, "faces_found": 0}
    if scorer is not None:
        score = scorer.score(_validation_images(ctx))
        entry.update(likeness=score.likeness, faces_found=score.faces_found,
                     images=score.images)
    history["checkpoints"].append(entry)
    ckpt.save_state(directory, params=trained, optimizer=optimizer, lr_scheduler=lr_scheduler,
                    step=step, history=history)


def _validation_images(ctx: StepContext) -> list[np.ndarray]:
    """A few portraits with fixed seeds from the model as it is now."""
    pipe, cfg = ctx.model.pipe, ctx.config
    pipe.vae.to(ctx.dev)
    for enc in ctx.model.text_encoders:
        enc.to(ctx.dev)
    unet = pipe.unet
    unet.eval()
    out = []
    with torch.no_grad():
        for i in range(cfg.validation_images):
            g = torch.Generator(device="cpu").manual_seed(cfg.seed + 1000 + i)
            result = pipe(prompt=f"{cfg.instance_prompt()}, headshot, studio portrait",
                          num_inference_steps=cfg.validation_steps,
                          guidance_scale=cfg.validation_guidance, generator=g, height=ctx.res,
                          width=ctx.res, output_type="np")
            out.append((np.clip(result.images[0], 0, 1) * 255).round().astype(np.uint8))
    unet.train()
    return out


def _class_latents(model: LoadedModel, config: TrainConfig, paths: RunPaths, res: int,
                   dev: torch.device) -> LatentCache:
    """Class images for prior preservation: made by the base model (before any LoRA)."""
    from headshots.media import save_clean

    folder = paths.train / "class_images"
    have = len(list(folder.glob("*.png"))) if folder.exists() else 0
    with torch.no_grad():
        for i in range(have, config.num_class_images):
            g = torch.Generator(device="cpu").manual_seed(config.seed + 50_000 + i)
            image = model.pipe(prompt=config.class_prompt(), num_inference_steps=25, generator=g,
                               height=res, width=res, output_type="np").images[0]
            save_clean((np.clip(image, 0, 1) * 255).round().astype(np.uint8),
                       folder / f"{i:04d}.png")
    pixels = load_images(folder, res, 1)
    return LatentCache.encode(model.pipe.vae, pixels, dev, model.pipe.vae.dtype)


def _finish(paths: RunPaths, history: dict[str, Any], started: float) -> TrainResult:
    step, why = choose_checkpoint([(c["step"], c["likeness"]) for c in history["checkpoints"]])
    shutil.copyfile(paths.checkpoint(step) / ckpt.LORA_NAME, paths.lora)
    peak = (torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available()
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report = {
        **history,
        "chosen_checkpoint": step,
        "chosen_because": why,
        "lora": str(paths.lora),
        "wall_time_s": round(time.time() - started, 2),
        "peak_memory_mb": round(peak, 1),
        "peak_memory_kind": "cuda_allocated" if torch.cuda.is_available() else "process_rss",
    }
    paths.train_report.write_text(json.dumps(report, indent=2))
    plot_training(report, paths.train / "training.png")
    return TrainResult(lora=paths.lora, report=report, finished=True)
