"""Aligned, consistently framed, metadata-free training crops of the accepted photos."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from headshots.config import IntakeConfig
from headshots.faces import Face, FaceBackend, aligned_crop
from headshots.intake._check import Source
from headshots.intake._report import IntakeReport
from headshots.media import decode_image, downscale, save_clean

__all__ = ["prepare_crops"]


def _scaled(face: Face, k: float) -> Face:
    return dataclasses.replace(
        face,
        box=type(face.box)(face.box.x0 * k, face.box.y0 * k, face.box.x1 * k, face.box.y1 * k),
        keypoints=np.asarray(face.keypoints) * k,
        mesh=None if face.mesh is None else face.mesh * k,
    )


def prepare_crops(
    report: IntakeReport, sources: Sequence[Source], backend: FaceBackend, out_dir: Path,
    config: IntakeConfig | None = None,
) -> list[Path]:
    """Write one square head-and-shoulders crop (``config.crop_resolution``) per accepted photo
    into ``out_dir`` as PNG without metadata; returns the paths in the report's order."""
    config = config or IntakeConfig()
    by_name = dict(sources)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i, photo in enumerate(report.accepted, start=1):
        decoded = decode_image(by_name[photo.file], config.decode, name=photo.file)
        work, k = downscale(decoded.pixels, 1024)
        faces = backend.analyse(work, hands=False, mask=False).faces
        if not faces:  # cannot happen for an accepted photo unless the file changed meanwhile
            continue
        face = _scaled(faces[0], 1.0 / k)
        crop, _ = aligned_crop(decoded.pixels, face, size=config.crop_resolution)
        written.append(save_clean(crop, out_dir / f"{i:03d}-{Path(photo.file).stem}.png"))
    return written
