"""One training step's loss: latents (cached or encoded), noise, timestep, UNet prediction."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from headshots.finetune._config import TrainConfig
from headshots.finetune._data import LatentCache, TrainImages, step_generator
from headshots.finetune._model import LoadedModel, encode_prompts

__all__ = ["StepContext"]


class StepContext:
    """What one training step needs, and the loss of one micro-batch."""

    def __init__(self, model: LoadedModel, config: TrainConfig, noise_scheduler: Any,
                 images: TrainImages, cache: LatentCache | None,
                 cached_text: tuple[torch.Tensor, torch.Tensor | None] | None,
                 class_latents: LatentCache | None, dev: torch.device, res: int,
                 amp: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
        self.model, self.config, self.sched = model, config, noise_scheduler
        self.images, self.cache, self.text, self.class_latents = images, cache, cached_text, \
            class_latents
        self.dev, self.res, self.amp = dev, res, amp
        vae_cfg = model.pipe.vae.config
        self.scale = vae_cfg.scaling_factor
        self.shift = getattr(vae_cfg, "shift_factor", None) or 0.0

    def _latents(self, source: LatentCache | None, pixels: TrainImages | None,
                 g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Scaled latents of a random micro-batch and its SDXL time ids."""
        count = len(source.mean) if source is not None else len(pixels)  # type: ignore[arg-type]
        idx = torch.randint(0, count, (self.config.batch_size,), generator=g)
        flips = (torch.rand(self.config.batch_size, generator=g) < 0.5) if self.config.flip \
            else torch.zeros(self.config.batch_size, dtype=torch.bool)
        if source is not None:
            mean, std = source.mean[idx, flips.long()], source.std[idx, flips.long()]
            time_ids = source.time_ids[idx, flips.long()]
        else:
            assert pixels is not None
            batch = torch.stack([torch.flip(pixels.pixels[i], dims=[2]) if f
                                 else pixels.pixels[i]
                                 for i, f in zip(idx.tolist(), flips.tolist(), strict=True)])
            vae = self.model.pipe.vae
            # outside autocast, in the VAE's dtype: an fp16-autocast SDXL VAE overflows
            with torch.no_grad(), torch.autocast(self.dev.type, enabled=False):
                dist = vae.encode(batch.to(vae.device, vae.dtype)).latent_dist
            mean, std = dist.mean.float().cpu(), dist.std.float().cpu()
            time_ids = pixels.time_ids[idx, flips.long()]
        sample = mean + std * torch.randn(mean.shape, generator=g)
        return ((sample - self.shift) * self.scale).to(self.dev), time_ids.to(self.dev)

    def _text(self, which: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.text is not None:
            emb, pooled = self.text
        else:
            prompts = [self.config.instance_prompt(), self.config.class_prompt()]
            emb, pooled = encode_prompts(self.model, prompts[: 2 if self.class_latents else 1],
                                         self.dev)
        n = self.config.batch_size
        return (emb[which : which + 1].expand(n, -1, -1),
                None if pooled is None else pooled[which : which + 1].expand(n, -1))

    def _predict_loss(self, latents: torch.Tensor, time_ids: torch.Tensor, g: torch.Generator,
                      which: int) -> torch.Tensor:
        noise = torch.randn(latents.shape, generator=g).to(self.dev)
        t = torch.randint(0, self.sched.config.num_train_timesteps, (latents.shape[0],),
                          generator=g).to(self.dev)
        noisy = self.sched.add_noise(latents, noise, t)
        emb, pooled = self._text(which)
        unet = self.model.pipe.unet
        kwargs: dict[str, Any] = {}
        if self.model.arch == "sdxl":  # the crop's true original size and crop corner
            kwargs["added_cond_kwargs"] = {"text_embeds": pooled,
                                           "time_ids": time_ids.to(emb.dtype)}
        pred = unet(noisy.to(unet.dtype), t, encoder_hidden_states=emb.to(unet.dtype),
                    **kwargs).sample.float()
        if self.sched.config.prediction_type == "v_prediction":
            target = self.sched.get_velocity(latents, noise, t)
        else:
            target = noise
        if self.config.snr_gamma is None:
            return F.mse_loss(pred, target.float())
        from diffusers.training_utils import compute_snr

        snr = compute_snr(self.sched, t)
        weight = torch.clamp(snr, max=self.config.snr_gamma) / snr
        if self.sched.config.prediction_type == "v_prediction":
            weight = torch.clamp(snr, max=self.config.snr_gamma) / (snr + 1)
        per = F.mse_loss(pred, target.float(), reduction="none").mean(dim=(1, 2, 3))
        return (per * weight).mean()

    def loss(self, g: torch.Generator) -> torch.Tensor:
        latents, ids = self._latents(self.cache, None if self.cache else self.images, g)
        loss = self._predict_loss(latents, ids, g, 0)
        if self.class_latents is not None:
            prior, prior_ids = self._latents(self.class_latents, None, g)
            loss = loss + self.config.prior_loss_weight * self._predict_loss(prior, prior_ids, g, 1)
        return loss

    def eval_loss(self) -> float:
        """Loss on a fixed batch (fixed images, noise and timesteps): comparable across steps."""
        unet = self.model.pipe.unet
        was_training = unet.training
        unet.eval()
        with torch.no_grad(), self.amp():
            losses = [float(self.loss(step_generator(self.config.seed + 7919, -1, i)))
                      for i in range(4)]
        unet.train(was_training)
        return float(np.mean(losses))


