"""The real generator: a diffusers SD1.5/SDXL pipeline with the person's LoRA, sampled by our own
short Euler loop so that candidates can be stopped part-way (early rejection) and every UNet
evaluation is counted.

On a GPU it runs in half precision (``GenerateConfig.precision``) with attention through PyTorch
SDPA; an fp16 VAE whose config sets ``force_upcast`` (SDXL's, and diffusers' default) decodes in
fp32, for the preview decode of early rejection too. The model's safety checker, where it has
one, looks at every finished image unless it is turned off; then it is never put on the device.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from headshots.errors import BackendError, ConfigError
from headshots.generate._config import DTYPES, GenerateConfig, pick_device, resolve_precision
from headshots.generate._hotswap import clear_lora, swap_in_lora
from headshots.generate._identity import diffusers_fingerprint, find_lora
from headshots.generate._requests import Generated, GenerationRequest
from headshots.generate._safety import SafetyChecker, quiet_libraries
from headshots.types import Reason

__all__ = ["DiffusersGenerator", "EarlyCheck"]

EarlyCheck = Callable[[np.ndarray], Reason | None]
_ADAPTER = "person"
_CPU_PARAMETER_LIMIT = 50_000_000  # a real-size UNet on a CPU takes minutes per image


class DiffusersGenerator:
    def __init__(
        self, base_model: Any, *, lora: Path | None = None, config: GenerateConfig | None = None,
        device: str = "auto", early_check: EarlyCheck | None = None,
        keep_pipeline: bool = False,
    ) -> None:
        """``keep_pipeline``: ``base_model`` is a loaded model the caller keeps for later
        generators (a worker); each person's LoRA then swaps in place of the last one's."""
        from diffusers import EulerDiscreteScheduler
        from diffusers.models.attention_processor import AttnProcessor2_0

        from headshots.finetune import load_base_model

        self.config = config = config or GenerateConfig()
        # everything that can be wrong with the arguments is found before the slow load
        self.device = pick_device(device)
        self.precision = resolve_precision(config.precision, self.device)
        self.dtype = DTYPES[self.precision]
        lora_file = find_lora(lora) if lora is not None else None
        source = base_model.source if hasattr(base_model, "pipe") else base_model
        self._made_with = diffusers_fingerprint(source, lora_file, config, self.precision,
                                                early=True)
        self.early_check, self.early_at = early_check, config.early_at

        with quiet_libraries():
            self.model = (base_model if hasattr(base_model, "pipe")
                          else load_base_model(base_model, dtype=self.dtype))
        if (device == "auto" and self.device.type == "cpu"
                and self.model.unet_parameters > _CPU_PARAMETER_LIMIT):
            raise ConfigError(
                f"no GPU found, and this {self.model.unet_parameters / 1e6:.0f} M-parameter model"
                " would take minutes per candidate on the CPU",
                "run on a machine with a GPU, or pass --device cpu to generate on the CPU anyway")
        pipe = self.model.pipe
        with quiet_libraries():
            self.safety = self._place_modules(pipe)
            # a kept pipeline holds the previous person's adapter (zeroed): swapped in place
            self.swapped = swap_in_lora(self.model, lora_file, _ADAPTER, config.lora_scale,
                                        keep_pipeline)
            # diffusers 0.42 already defaults to SDPA; set it so a model saved with another
            # processor (or an older diffusers) cannot silently fall back to slow attention
            pipe.unet.set_attn_processor(AttnProcessor2_0())
            pipe.vae.set_attn_processor(AttnProcessor2_0())
        self.unet: Any = pipe.unet
        if config.compile_unet:  # compiled once per kept pipeline while LoRAs swap in place
            compiled = getattr(self.model, "compiled_unet", None) if keep_pipeline else None
            self.unet = compiled if compiled is not None else torch.compile(pipe.unet)
            self.model.compiled_unet = self.unet
        self.scheduler_config = EulerDiscreteScheduler.from_config(pipe.scheduler.config).config

    def _place_modules(self, pipe: Any) -> SafetyChecker | None:
        """Move what sampling uses to the device in the working precision; drop or keep the
        safety checker; keep the VAE in fp32 when an fp16 VAE would overflow (force_upcast)."""
        for module in [pipe.unet, *self.model.text_encoders]:
            module.to(self.device, self.dtype)
        upcast = self.dtype == torch.float16 and bool(getattr(pipe.vae.config, "force_upcast",
                                                              False))
        pipe.vae.to(self.device, torch.float32 if upcast else self.dtype)
        checker = getattr(pipe, "safety_checker", None)
        if checker is None:
            return None
        if not self.config.safety_checker:
            pipe.register_modules(safety_checker=None)  # freed; never on the device
            return None
        checker.to(self.device, self.dtype)
        return SafetyChecker(checker, getattr(pipe, "feature_extractor", None), self.device,
                             self.dtype)

    def release(self) -> None:
        """Take the person's LoRA out of the pipeline (a worker keeps the base pipeline for
        the next order; nothing of this person may stay in it)."""
        with quiet_libraries():
            clear_lora(self.model, _ADAPTER)

    def fingerprint(self) -> dict[str, Any]:
        """What every candidate of this generator depends on (see ``_identity``)."""
        early = self.early_at if self.early_check is not None else None
        return {**self._made_with, "early_rejection_at": early}

    @torch.no_grad()
    def _encode(self, reqs: Sequence[GenerationRequest], cfg: bool) -> dict[str, Any]:
        pipe, dev = self.model.pipe, self.device
        prompts = [r.prompt for r in reqs]
        negatives = [r.negative_prompt for r in reqs]
        if self.model.arch == "sd15":
            pos, neg = pipe.encode_prompt(prompts, dev, 1, cfg, negatives)
            return {"emb": torch.cat([neg, pos]) if cfg else pos, "added": None}
        pos, neg, pooled, neg_pooled = pipe.encode_prompt(
            prompt=prompts, device=dev, num_images_per_prompt=1,
            do_classifier_free_guidance=cfg, negative_prompt=negatives,
        )
        r = reqs[0]
        time_ids = pipe._get_add_time_ids(
            (r.height, r.width), (0, 0), (r.height, r.width), dtype=pos.dtype,
            text_encoder_projection_dim=pipe.text_encoder_2.config.projection_dim,
        ).to(dev).repeat(len(reqs), 1)
        if cfg:
            return {"emb": torch.cat([neg, pos]),
                    "added": {"text_embeds": torch.cat([neg_pooled, pooled]),
                              "time_ids": torch.cat([time_ids, time_ids])}}
        return {"emb": pos, "added": {"text_embeds": pooled, "time_ids": time_ids}}

    def _decode(self, latents: torch.Tensor, scale: float = 1.0) -> list[np.ndarray]:
        """One image at a time (bounded memory at 1024 px; an image never depends on its
        batch-mates), in the VAE's own dtype: fp32 when it was upcast."""
        vae = self.model.pipe.vae
        if scale != 1.0:  # a cheap low-resolution look at the prediction
            latents = torch.nn.functional.interpolate(latents.float(), scale_factor=scale,
                                                      mode="bilinear", align_corners=False)
        shift = getattr(vae.config, "shift_factor", None) or 0.0
        out = []
        for one in latents.split(1):
            image = vae.decode(one.to(vae.dtype) / vae.config.scaling_factor + shift).sample
            if not torch.isfinite(image).all():
                raise BackendError(
                    f"generation in {self.precision} produced non-finite values (an overflow)",
                    "pass --precision bf16 or fp32" if self.precision == "fp16"
                    else "pass --precision fp32, or check the base model and LoRA")
            image = (image.float() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
            out.append((image[0] * 255).round().astype(np.uint8))
        return out

    @torch.no_grad()
    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generated]:
        """One batch of requests that share size, steps and guidance."""
        from diffusers import EulerDiscreteScheduler

        if not requests:
            return []
        first = requests[0]
        if any((r.width, r.height, r.steps, r.guidance) != (first.width, first.height,
               first.steps, first.guidance) for r in requests):
            raise ValueError("a batch must share size, steps and guidance")
        cfg = first.guidance > 1.0
        per_step = 2 if cfg else 1
        with quiet_libraries():  # the pipelines' "truncated to 77 tokens" notices
            cond = self._encode(requests, cfg)
        scheduler = EulerDiscreteScheduler.from_config(self.scheduler_config)
        scheduler.set_timesteps(first.steps, device=self.device)
        shape = (4, first.height // 8, first.width // 8)
        # noise drawn on the CPU in fp32 from each request's seed: the same on every device
        # and whoever the batch-mates are
        latents = torch.stack([
            torch.randn(shape, generator=torch.Generator().manual_seed(r.seed)) for r in requests
        ]).to(self.device) * scheduler.init_noise_sigma
        alive = list(range(len(requests)))
        results: dict[int, Generated] = {}
        check_at = max(1, round(first.steps * self.early_at)) if self.early_check else -1
        for i, t in enumerate(scheduler.timesteps):
            x = torch.cat([latents] * 2) if cfg else latents
            x = scheduler.scale_model_input(x, t).to(self.dtype)
            keep = alive + [j + len(requests) for j in alive] if cfg else alive
            added = None if cond["added"] is None else {
                k: v[keep] for k, v in cond["added"].items()}
            pred = self.unet(x, t, encoder_hidden_states=cond["emb"][keep],
                             added_cond_kwargs=added).sample.float()
            if cfg:
                uncond, text = pred.chunk(2)
                pred = uncond + first.guidance * (text - uncond)
            out = scheduler.step(pred, t, latents)  # the scheduler works in fp32
            latents = out.prev_sample
            if i + 1 == check_at and self.early_check is not None:
                alive, latents = self._early(requests, alive, latents, out.pred_original_sample,
                                             results, per_step * (i + 1), i + 1)
                if not alive:
                    break
        if alive:
            images = self._decode(latents)
            flags = self.safety.flags(images) if self.safety else [False] * len(images)
            full = {"unet_evals": per_step * first.steps}
            for j, image, flagged in zip(alive, images, flags, strict=True):
                results[j] = (Generated(requests[j], None, {
                    **full, "early_rejected": Reason.NSFW.value,
                    "early_rejected_at_step": first.steps}) if flagged
                    else Generated(requests[j], image, dict(full)))
        return [results[j] for j in range(len(requests))]

    def _early(self, requests: Sequence[GenerationRequest], alive: list[int],
               latents: torch.Tensor, predicted: torch.Tensor, results: dict[int, Generated],
               evals: int, step: int) -> tuple[list[int], torch.Tensor]:
        """Check a half-size decode of each live candidate's predicted clean image; record the
        rejected ones and return the survivors."""
        assert self.early_check is not None
        survivors = []
        for row, (j, image) in enumerate(zip(alive, self._decode(predicted, 0.5), strict=True)):
            reason = self.early_check(image)
            if reason is None:
                survivors.append(row)
                continue
            results[j] = Generated(requests[j], None, {
                "unet_evals": evals, "early_rejected": reason.value,
                "early_rejected_at_step": step})
        return [alive[r] for r in survivors], latents[survivors]
