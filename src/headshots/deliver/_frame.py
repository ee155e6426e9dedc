"""Consistent framing: every headshot gets the eyes on the same line and the head at the same
size, in each standard shape. Without a detectable face, a centred crop (said in the report)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from headshots.deliver._config import DeliverConfig, Framing
from headshots.faces import Face, aligned_crop

__all__ = ["Framed", "frame"]


@dataclass(frozen=True)
class Framed:
    pixels: np.ndarray  # (H, W, 3) RGB uint8
    framing: Framing
    method: Literal["face", "centre"]
    upscale: float  # output px per source px (> 1: enlarged)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.pixels.shape[1], self.pixels.shape[0]


def frame(image: np.ndarray, face: Face | None, framing: Framing, config: DeliverConfig) -> Framed:
    """``image`` framed as ``framing`` at ``config.width`` wide, eyes level when ``face`` is
    given (via ``aligned_crop``), else the largest centred crop of that shape."""
    width = config.width
    height = round(width * framing.aspect)
    if face is not None:
        eye_y = config.eye_y_square if framing is Framing.SQUARE else config.eye_y_portrait
        pixels, m = aligned_crop(
            image, face, size=width, eye_y=eye_y, eye_mouth=config.eye_mouth,
            aspect=framing.aspect,
        )
        return Framed(pixels, framing, "face", float(np.hypot(m[0, 0], m[0, 1])))
    h, w = image.shape[:2]
    crop_w = min(w, round(h / framing.aspect))
    crop_h = min(h, round(crop_w * framing.aspect))
    x0, y0 = (w - crop_w) // 2, (h - crop_h) // 2
    crop = image[y0:y0 + crop_h, x0:x0 + crop_w]
    scale = width / crop_w
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    pixels = cv2.resize(np.ascontiguousarray(crop), (width, height), interpolation=interp)
    return Framed(pixels, framing, "centre", scale)
