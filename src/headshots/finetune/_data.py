"""Training images as tensors with SDXL's size conditioning per image, and their VAE latents
cached once (flipped copies too).

Every random choice of a training step (which images, flipped or not, the latent sample,
noise, timestep) is drawn from a generator seeded by (seed, step, micro-batch), so a resumed
run draws exactly what an uninterrupted one would.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from headshots.errors import ConfigError, PhotoSetError
from headshots.intake import CROP_MANIFEST, CropInfo, read_crop_manifest
from headshots.media import decode_image

__all__ = ["load_images", "TrainImages", "LatentCache", "step_generator", "list_images"]

_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


def list_images(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _SUFFIXES) if \
        folder.is_dir() else []
    return files


@dataclass
class TrainImages:
    """(N, 3, R, R) pixels in [-1, 1] and SDXL's add_time_ids per image, (N, 2, 6): for the
    image as is and mirrored, each (original h, w, crop top, left, target h, w)."""

    pixels: torch.Tensor
    time_ids: torch.Tensor
    fingerprint: str  # of the files' bytes and manifest, so a resume sees the same crop set
    upscaled: int  # crops the manifest says were enlarged from a smaller face

    def __len__(self) -> int:
        return len(self.pixels)

    def subset(self, index: list[int]) -> TrainImages:
        return TrainImages(self.pixels[index], self.time_ids[index], self.fingerprint,
                           self.upscaled)


def _time_ids(info: CropInfo | None, height: int, width: int, res: int) -> list[list[float]]:
    """As diffusers' SDXL DreamBooth script: the photo's original size, and where the crop
    window sits in the photo resized to training scale (measured after the flip for the
    mirrored copy). Without a manifest the file itself is the original, resized so its short
    side is ``res`` and centre-cropped, as ``load_images`` does."""
    if info is None:
        f = res / min(height, width)
        original = (height, width)
        scaled_h, scaled_w = height * f, width * f
        top, left = (scaled_h - res) / 2, (scaled_w - res) / 2
    else:
        f = res / info.resolution
        original = info.original_size
        scaled_w = info.scaled_size[1] * f
        top, left = info.crop_top_left[0] * f, info.crop_top_left[1] * f
    flipped_left = max(0.0, scaled_w - left - res)
    return [[*original, round(top), round(left), res, res],
            [*original, round(top), round(flipped_left), res, res]]


def load_images(folder: Path, resolution: int, min_photos: int = 1) -> TrainImages:
    """The square crops in ``folder`` at ``resolution``; a crop smaller than that is an error
    (an enlarged crop would teach the model softness)."""
    files = list_images(folder)
    if len(files) < min_photos:
        raise PhotoSetError(
            f"{folder} holds {len(files)} training image(s); at least {min_photos} are needed",
            "run `headshots prepare` on 8-20 selfies, or pass the folder of its crops",
        )
    manifest = read_crop_manifest(folder) or {}
    digest = hashlib.sha256()
    if (folder / CROP_MANIFEST).is_file():
        digest.update((folder / CROP_MANIFEST).read_bytes())
    arrays, ids, small = [], [], []
    for f in files:
        data = f.read_bytes()
        digest.update(hashlib.sha256(data).digest())
        im = Image.fromarray(decode_image(data, name=f.name).pixels)
        if min(im.size) < resolution:
            small.append(min(im.size))
            continue
        ids.append(_time_ids(manifest.get(f.name), im.height, im.width, resolution))
        if im.size != (resolution, resolution):
            side = min(im.size)  # centre square, then resize
            left, top = (im.width - side) // 2, (im.height - side) // 2
            im = im.crop((left, top, left + side, top + side)).resize(
                (resolution, resolution), Image.Resampling.LANCZOS
            )
        arrays.append(np.asarray(im, dtype=np.float32) / 127.5 - 1.0)
    if small:
        raise ConfigError(
            f"{len(small)} of {len(files)} images in {folder} are smaller ({min(small)} px) than "
            f"the training size of {resolution} px",
            f"prepare the crops at {resolution} px (`headshots prepare --resolution "
            f"{resolution}`), or train at --resolution {min(small)}",
        )
    pixels = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    upscaled = sum(1 for f in files if (i := manifest.get(f.name)) and i.enlarged_at(resolution))
    return TrainImages(pixels, torch.tensor(ids, dtype=torch.float32), digest.hexdigest(),
                       upscaled)


def step_generator(seed: int, step: int, micro: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + step * 101 + micro) % (2**63))


@dataclass
class LatentCache:
    """VAE latent distributions (mean, std) of every image and of its mirror image."""

    mean: torch.Tensor  # (N, 2, C, h, w): [:, 0] as is, [:, 1] flipped
    std: torch.Tensor
    time_ids: torch.Tensor  # (N, 2, 6), as TrainImages

    @classmethod
    def encode(cls, vae: torch.nn.Module, images: torch.Tensor, time_ids: torch.Tensor,
               device: torch.device, batch: int = 4) -> LatentCache:
        """Outside autocast, in the VAE's own dtype (an fp16-autocast SDXL VAE overflows)."""
        means, stds = [], []
        dtype = next(vae.parameters()).dtype
        with torch.no_grad(), torch.autocast(device.type, enabled=False):
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
        return cls(mean=torch.stack(means, 1), std=torch.stack(stds, 1), time_ids=time_ids)
