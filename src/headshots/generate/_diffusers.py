"""The real generator: a diffusers SD1.5/SDXL pipeline with the person's LoRA, sampled by our own
short Euler loop so that candidates can be stopped part-way (early rejection) and every UNet
evaluation is counted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from headshots.errors import NotFoundError
from headshots.generate._requests import Generated, GenerationRequest
from headshots.types import Reason

__all__ = ["DiffusersGenerator", "EarlyCheck"]

EarlyCheck = Callable[[np.ndarray], Reason | None]


class DiffusersGenerator:
    def __init__(
        self, base_model: Any, *, lora: Path | None = None, lora_scale: float = 1.0,
        device: str = "auto", early_check: EarlyCheck | None = None, early_at: float = 0.4,
    ) -> None:
        from diffusers import EulerDiscreteScheduler

        from headshots.finetune import LORA_NAME, load_base_model, resolve_device

        self.model = base_model if hasattr(base_model, "pipe") else load_base_model(base_model)
        pipe = self.model.pipe
        if lora is not None:
            lora = Path(lora)
            folder = lora if lora.is_dir() else lora.parent
            if (folder / "train" / LORA_NAME).exists():  # a run folder was given
                folder = folder / "train"
            if not (folder / LORA_NAME).exists():
                raise NotFoundError(f"no {LORA_NAME} in {folder}",
                                    "pass the run folder of `headshots train`")
            pipe.load_lora_weights(str(folder), weight_name=LORA_NAME, adapter_name="person")
            pipe.set_adapters(["person"], adapter_weights=[lora_scale])
        self.device = resolve_device(device, self.model.unet_parameters, 512)
        pipe.to(self.device)
        self.scheduler_config = EulerDiscreteScheduler.from_config(pipe.scheduler.config).config
        self.early_check = early_check
        self.early_at = early_at

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
        vae = self.model.pipe.vae
        if scale != 1.0:  # a cheap low-resolution look at the prediction
            latents = torch.nn.functional.interpolate(latents, scale_factor=scale,
                                                      mode="bilinear", align_corners=False)
        shift = getattr(vae.config, "shift_factor", None) or 0.0
        images = vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor + shift).sample
        images = (images.float() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
        return [(im * 255).round().astype(np.uint8) for im in images]

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
        unet = self.model.pipe.unet
        cfg = first.guidance > 1.0
        per_step = 2 if cfg else 1
        cond = self._encode(requests, cfg)
        scheduler = EulerDiscreteScheduler.from_config(self.scheduler_config)
        scheduler.set_timesteps(first.steps, device=self.device)
        shape = (4, first.height // 8, first.width // 8)
        latents = torch.stack([
            torch.randn(shape, generator=torch.Generator().manual_seed(r.seed)) for r in requests
        ]).to(self.device, unet.dtype) * scheduler.init_noise_sigma
        alive = list(range(len(requests)))
        results: dict[int, Generated] = {}
        check_at = max(1, round(first.steps * self.early_at)) if self.early_check else -1
        for i, t in enumerate(scheduler.timesteps):
            x = torch.cat([latents] * 2) if cfg else latents
            x = scheduler.scale_model_input(x, t)
            keep = alive + [j + len(requests) for j in alive] if cfg else alive
            added = None if cond["added"] is None else {
                k: v[keep] for k, v in cond["added"].items()}
            pred = unet(x, t, encoder_hidden_states=cond["emb"][keep],
                        added_cond_kwargs=added).sample
            if cfg:
                uncond, text = pred.chunk(2)
                pred = uncond + first.guidance * (text - uncond)
            out = scheduler.step(pred, t, latents)
            latents = out.prev_sample
            if i + 1 == check_at and self.early_check is not None:
                previews = self._decode(out.pred_original_sample, scale=0.5)
                survivors = []
                for row, (j, image) in enumerate(zip(alive, previews, strict=True)):
                    reason = self.early_check(image)
                    if reason is None:
                        survivors.append(row)
                        continue
                    results[j] = Generated(requests[j], None, {
                        "unet_evals": per_step * (i + 1), "early_rejected": reason.value,
                        "early_rejected_at_step": i + 1})
                alive = [alive[r] for r in survivors]
                latents = latents[survivors]
                if not alive:
                    break
        if alive:
            for j, image in zip(alive, self._decode(latents), strict=True):
                results[j] = Generated(requests[j], image, {"unet_evals": per_step * first.steps})
        return [results[j] for j in range(len(requests))]
