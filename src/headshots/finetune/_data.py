"""Training images as tensors, and their VAE latents cached once (flipped copies too).

Every random choice of a training step (which images, flipped or not, the latent sample,
noise, timestep) is drawn from a generator seeded by (seed, step, micro-batch), so a resumed
run draws exactly what an uninterrupted one would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from headshots.errors import PhotoSetError
from headshots.media import decode_image

__all__ = ["load_images", "LatentCache", "step_generator", "list_images"]

_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


def list_images(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _SUFFIXES) if \
        folder.is_dir() else []
    return files


def load_images(folder: Path, resolution: int, min_photos: int = 1) -> torch.Tensor:
    """(N, 3, R, R) in [-1, 1] from the square crops in ``folder``."""
    files = list_images(folder)
    if len(files) < min_photos:
        raise PhotoSetError(
            f"{folder} holds {len(files)} training image(s); at least {min_photos} are needed",
            "run `headshots prepare` on 8-20 selfies, or pass the folder of its crops",
        )
    arrays = []
    for f in files:
        pixels = decode_image(f, name=f.name).pixels
        im = Image.fromarray(pixels)
        if im.size != (resolution, resolution):
            side = min(im.size)  # centre square, then resize
            left, top = (im.width - side) // 2, (im.height - side) // 2
            im = im.crop((left, top, left + side, top + side)).resize(
                (resolution, resolution), Image.Resampling.LANCZOS
            )
        arrays.append(np.asarray(im, dtype=np.float32) / 127.5 - 1.0)
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def step_generator(seed: int, step: int, micro: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + step * 101 + micro) % (2**63))


@dataclass
class LatentCache:
    """VAE latent distributions (mean, std) of every image and of its mirror image."""

    mean: torch.Tensor  # (N, 2, C, h, w): [:, 0] as is, [:, 1] flipped
    std: torch.Tensor

    @classmethod
    def encode(cls, vae: torch.nn.Module, images: torch.Tensor, device: torch.device,
               dtype: torch.dtype, batch: int = 4) -> LatentCache:
        means, stds = [], []
        with torch.no_grad():
            for flipped in (False, True):
                m, s = [], []
                for i in range(0, len(images), batch):
                    x = images[i : i + batch]
                    if flipped:
                        x = torch.flip(x, dims=[3])
                    dist = vae.encode(x.to(device, dtype)).latent_dist  # type: ignore[operator]
                    m.append(dist.mean.float().cpu())
                    s.append(dist.std.float().cpu())
                means.append(torch.cat(m))
                stds.append(torch.cat(s))
        return cls(mean=torch.stack(means, 1), std=torch.stack(stds, 1))
