"""Aligned, consistently framed, metadata-free training crops of the accepted photos, with a
manifest (``crops.json``) that records where each crop came from.

Crops are cut from the full-resolution photo (the check decodes JPEGs at a reduced size; the
crop must not inherit that), at the size the model trains at (512 px SD1.5, 1024 px SDXL). A
face too small in its photo for that size is enlarged — it cannot be otherwise — and the
manifest and the result say so, so it is never silent. The manifest also carries SDXL's size
conditioning per crop (``original_size``, ``crop_top_left``), which training feeds the UNet
exactly as SDXL was trained: the photo's true size and where the crop window sits in it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from headshots.config import IntakeConfig
from headshots.errors import ConfigError
from headshots.faces import Face, FaceBackend, aligned_crop
from headshots.intake._check import Source
from headshots.intake._report import IntakeReport
from headshots.media import decode_image, downscale, save_clean

__all__ = ["CROP_MANIFEST", "CropInfo", "PreparedCrops", "prepare_crops", "read_crop_manifest"]

CROP_MANIFEST = "crops.json"
UPSCALE_TOLERANCE = 1.1  # enlarging by up to 10 % costs no visible detail; beyond, it is reported
_WORK_SIDE = 1024  # face analysis copy, as in the check
_FULL = 1 << 30  # decode_max_side that never draft-reduces


@dataclass(frozen=True)
class CropInfo:
    """Where one crop came from. Sizes of the photo are of the upright full-resolution image."""

    file: str  # PNG name inside the crops folder
    resolution: int  # side of the square crop
    original_size: tuple[int, int]  # (height, width) of the photo: SDXL's original_size
    scaled_size: tuple[int, int]  # (height, width) of the photo levelled and scaled like the crop
    crop_top_left: tuple[int, int]  # (top, left) of the crop window in that scaled photo
    scale: float  # crop pixels per photo pixel; > 1 means the crop was enlarged
    angle: float = 0.0  # degrees the photo was turned to level the eyes

    @property
    def upscaled(self) -> bool:
        return self.enlarged_at(self.resolution)

    def enlarged_at(self, resolution: int) -> bool:
        """Whether this crop, used at ``resolution``, holds more pixels than the photo had."""
        return self.scale * resolution / self.resolution > UPSCALE_TOLERANCE

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "upscaled": self.upscaled}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CropInfo:
        return cls(
            file=str(data["file"]), resolution=int(data["resolution"]),
            original_size=_pair(data["original_size"]), scaled_size=_pair(data["scaled_size"]),
            crop_top_left=_pair(data["crop_top_left"]), scale=float(data["scale"]),
            angle=float(data.get("angle", 0.0)),
        )


def _pair(value: Any) -> tuple[int, int]:
    a, b = value
    return int(a), int(b)


@dataclass(frozen=True)
class PreparedCrops:
    folder: Path
    crops: list[CropInfo]
    manifest: Path

    def __len__(self) -> int:
        return len(self.crops)

    @property
    def paths(self) -> list[Path]:
        return [self.folder / c.file for c in self.crops]

    @property
    def upscaled(self) -> list[CropInfo]:
        return [c for c in self.crops if c.upscaled]


def _scaled(face: Face, k: float) -> Face:
    return dataclasses.replace(
        face,
        box=type(face.box)(face.box.x0 * k, face.box.y0 * k, face.box.x1 * k, face.box.y1 * k),
        keypoints=np.asarray(face.keypoints) * k,
        mesh=None if face.mesh is None else face.mesh * k,
    )


def crop_geometry(matrix: np.ndarray, width: int, height: int, size: int,
                  file: str) -> CropInfo:
    """The crop window of the similarity ``matrix`` (photo -> crop) inside the photo levelled
    and scaled the same way — what SDXL's crop conditioning describes."""
    lin, t = matrix[:, :2], matrix[:, 2]
    corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], np.float64)
    mapped = corners @ lin.T
    lo, hi = mapped.min(axis=0), mapped.max(axis=0)
    left, top = -t - lo  # crop pixel (0, 0) sits at -t in the levelled, scaled photo's frame
    return CropInfo(
        file=file, resolution=size, original_size=(height, width),
        scaled_size=(round(hi[1] - lo[1]), round(hi[0] - lo[0])),
        crop_top_left=(max(0, round(top)), max(0, round(left))),
        scale=round(float(np.hypot(lin[0, 0], lin[0, 1])), 4),
        angle=round(float(np.degrees(np.arctan2(lin[1, 0], lin[0, 0]))), 3),
    )


def prepare_crops(
    report: IntakeReport, sources: Sequence[Source], backend: FaceBackend, out_dir: Path,
    config: IntakeConfig | None = None,
) -> PreparedCrops:
    """Write one square head-and-shoulders crop (``config.crop_resolution``) per accepted photo
    into ``out_dir`` as PNG without metadata, plus ``crops.json``; in the report's order."""
    config = config or IntakeConfig()
    by_name = dict(sources)
    full = config.decode.model_copy(update={"decode_max_side": _FULL})
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in read_crop_manifest(out_dir) or {}:  # a re-run must not keep crops of photos
        if Path(old).name == old and old.endswith(".png"):  # dropped since; only ours go
            (out_dir / old).unlink(missing_ok=True)
    infos: list[CropInfo] = []
    size = config.crop_resolution
    for i, photo in enumerate(report.accepted, start=1):
        decoded = decode_image(by_name[photo.file], full, name=photo.file)
        work, k = downscale(decoded.pixels, _WORK_SIDE)
        faces = backend.analyse(work, hands=False, mask=False).faces
        if not faces:  # cannot happen for an accepted photo unless the file changed meanwhile
            continue
        crop, matrix = aligned_crop(decoded.pixels, _scaled(faces[0], 1.0 / k), size=size)
        name = f"{i:03d}-{Path(photo.file).stem}.png"
        save_clean(crop, out_dir / name)
        infos.append(crop_geometry(matrix, decoded.width, decoded.height, size, name))
    manifest = out_dir / CROP_MANIFEST
    manifest.write_text(json.dumps({"version": 1, "resolution": size,
                                    "crops": [c.to_dict() for c in infos]}, indent=2))
    return PreparedCrops(folder=out_dir, crops=infos, manifest=manifest)


def read_crop_manifest(folder: Path) -> dict[str, CropInfo] | None:
    """The crops' records by file name, or None when the folder has no manifest."""
    path = folder / CROP_MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return {c["file"]: CropInfo.from_dict(c) for c in data["crops"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a valid crop manifest ({type(exc).__name__})",
                          "run `headshots prepare` again, or delete the file to train "
                          "without it") from None
