"""Images the trainer makes itself: validation portraits and prior-preservation class images.

The pipeline samples latents under the training autocast (as diffusers' DreamBooth scripts run
validation), and the VAE decodes them outside autocast in its own dtype: the VAE stays fp32 in
an fp16 run (fp16 overflows SDXL's VAE), and latents in half precision must not meet it
unconverted. The SD1.5 safety checker is not run: these images are only scored by the trainer,
never shown, a blacked-out portrait would read as "no likeness", and its 300 M parameters are
not moved to the GPU for it. Generation applies the checker to what customers see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import torch

from headshots._quiet import quiet_libraries
from headshots.finetune._model import LoadedModel
from headshots.finetune._precision import on_device

__all__ = ["sample_images"]


def decode_latents(model: LoadedModel, latents: torch.Tensor, dev: torch.device) -> np.ndarray:
    vae = model.pipe.vae
    cfg = vae.config
    shift = getattr(cfg, "shift_factor", None) or 0.0
    with torch.no_grad(), torch.autocast(dev.type, enabled=False):
        x = latents.to(vae.device, vae.dtype) / cfg.scaling_factor + shift
        images = vae.decode(x).sample.float()
    images = (images / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
    return (images * 255).round().astype(np.uint8)


def sample_images(
    model: LoadedModel, prompts: Sequence[tuple[str, str]], seeds: Sequence[int], *,
    steps: int, guidance: float, res: int, dev: torch.device,
    amp: Callable[[], AbstractContextManager[Any]],
) -> list[np.ndarray]:
    """One image per (prompt, negative prompt) and seed, from the model as it is now."""
    pipe = model.pipe
    unet = pipe.unet
    was_training = unet.training
    unet.eval()
    bar = dict(getattr(pipe, "_progress_bar_config", {}))
    pipe.set_progress_bar_config(disable=True)  # no library progress bars on the terminal
    out: list[np.ndarray] = []
    try:
        with on_device([pipe.vae, *model.text_encoders], dev), torch.no_grad(), \
                quiet_libraries():
            for (prompt, negative), seed in zip(prompts, seeds, strict=True):
                g = torch.Generator(device="cpu").manual_seed(seed)
                with amp():
                    latents = pipe(prompt=prompt, negative_prompt=negative or None,
                                   num_inference_steps=steps, guidance_scale=guidance,
                                   generator=g, height=res, width=res,
                                   output_type="latent").images
                out.extend(decode_latents(model, latents, dev))
    finally:
        unet.train(was_training)
        pipe._progress_bar_config = bar
    return out
