"""Consistent framing: every headshot gets the eyes on the same line and the head at the same
size, in each standard shape. Without a detectable face, a centred crop (said in the report)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from headshots.deliver._config import DeliverConfig, Framing
from headshots.faces import Face, aligned_crop, alignment_matrix

__all__ = ["Framed", "frame"]


@dataclass(frozen=True)
class Framed:
    pixels: np.ndarray  # (H, W, 3) RGB uint8
    framing: Framing
    method: Literal["face", "centre"]
    upscale: float  # output px per source px (> 1: enlarged)
    eye_mouth: float | None = None  # head size used: the configured one, larger when zoomed in

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
        eye_mouth = _fitting_scale(image, face, width, height, eye_y, config.eye_mouth,
                                   framing.aspect)
        pixels, m = aligned_crop(
            image, face, size=width, eye_y=eye_y, eye_mouth=eye_mouth, aspect=framing.aspect,
        )
        return Framed(pixels, framing, "face", float(np.hypot(m[0, 0], m[0, 1])), eye_mouth)
    h, w = image.shape[:2]
    crop_w = min(w, round(h / framing.aspect))
    crop_h = min(h, round(crop_w * framing.aspect))
    x0, y0 = (w - crop_w) // 2, (h - crop_h) // 2
    crop = image[y0:y0 + crop_h, x0:x0 + crop_w]
    scale = width / crop_w
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    pixels = cv2.resize(np.ascontiguousarray(crop), (width, height), interpolation=interp)
    return Framed(pixels, framing, "centre", scale)


def _inside(image: np.ndarray, m: np.ndarray, width: int, height: int) -> bool:
    """Whether every output pixel comes from inside the image (no repeated edge streaks)."""
    inv = cv2.invertAffineTransform(m)
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], float)
    src = corners @ inv.T
    h, w = image.shape[:2]
    return bool((src[:, 0] >= -1).all() and (src[:, 0] <= w + 1).all()
                and (src[:, 1] >= -1).all() and (src[:, 1] <= h + 1).all())


def _fitting_scale(image: np.ndarray, face: Face, width: int, height: int, eye_y: float,
                   eye_mouth: float, aspect: float, tightest: float = 0.24) -> float:
    """The configured head size, or the smallest zoom-in up to ``tightest`` that keeps the frame
    inside the photo: a slightly closer crop looks better than smeared edge pixels. Beyond
    ``tightest`` the face grows too large to frame (and to re-detect) well."""
    def fits(em: float) -> bool:
        m = alignment_matrix(face, size=width, eye_y=eye_y, eye_mouth=em, aspect=aspect)
        return _inside(image, m, width, height)

    if fits(eye_mouth):
        return eye_mouth
    if not fits(tightest):  # even the closest crop runs off (a tilted head): smear the least
        return tightest
    lo, hi = eye_mouth, tightest
    for _ in range(12):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return hi
