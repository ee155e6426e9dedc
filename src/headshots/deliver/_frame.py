"""Consistent framing: every headshot gets the eyes on the same line and the head at the same
size, in each standard shape, and no pixel from beyond the photo (a closer or off-centre crop
instead). Without a detectable face, a centred crop (said in the report)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from headshots.deliver._config import DeliverConfig, Framing
from headshots.faces import Face, alignment_matrix

__all__ = ["Framed", "frame"]


@dataclass(frozen=True)
class Framed:
    pixels: np.ndarray  # (H, W, 3) RGB uint8
    framing: Framing
    method: Literal["face", "centre"]
    upscale: float  # output px per source px (> 1: enlarged)
    eye_mouth: float | None = None  # head size used: the configured one, larger when zoomed in
    shifted: bool = False  # the frame was moved off the eyes' centre to stay inside the photo
    matrix: np.ndarray | None = field(default=None, repr=False)  # photo -> output (face method)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.pixels.shape[1], self.pixels.shape[0]


def frame(image: np.ndarray, face: Face | None, framing: Framing, config: DeliverConfig) -> Framed:
    """``image`` framed as ``framing`` at ``config.width`` wide, eyes level when ``face`` is
    given, else the largest centred crop of that shape. Every output pixel comes from inside
    the photo: edge pixels are never repeated into streaks (see ``_fit``)."""
    width = config.width
    height = round(width * framing.aspect)
    if face is not None:
        eye_y = config.eye_y_square if framing is Framing.SQUARE else config.eye_y_portrait
        fitted = _fit(image, face, width, height, eye_y, config.eye_mouth, framing.aspect)
        if fitted is not None:
            m, eye_mouth, shifted = fitted
            scale = float(np.hypot(m[0, 0], m[0, 1]))
            pixels = cv2.warpAffine(
                image, m, (width, height),
                flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
                borderMode=cv2.BORDER_REPLICATE,  # only the interpolation's last half pixel
            )
            return Framed(pixels, framing, "face", scale, eye_mouth, shifted, m)
    h, w = image.shape[:2]
    crop_w = min(w, round(h / framing.aspect))
    crop_h = min(h, round(crop_w * framing.aspect))
    x0, y0 = (w - crop_w) // 2, (h - crop_h) // 2
    crop = image[y0:y0 + crop_h, x0:x0 + crop_w]
    scale = width / crop_w
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    pixels = cv2.resize(np.ascontiguousarray(crop), (width, height), interpolation=interp)
    return Framed(pixels, framing, "centre", scale)


def _window(m: np.ndarray, width: int, height: int) -> np.ndarray:
    """The output frame's corners in the photo, (4, 2), in pixel-area coordinates (a pixel
    centred on (x, y) covers x-0.5 .. x+0.5): the same test at every output size."""
    inv = cv2.invertAffineTransform(m)
    x1, y1 = width - 0.5, height - 0.5
    corners = np.array([[-0.5, -0.5, 1], [x1, -0.5, 1], [-0.5, y1, 1], [x1, y1, 1]], float)
    return corners @ inv.T


def _inside(image: np.ndarray, m: np.ndarray, width: int, height: int) -> bool:
    """Whether every output pixel comes from inside the image (no repeated edge streaks)."""
    src = _window(m, width, height)
    h, w = image.shape[:2]
    eps = 1e-3
    return bool((src >= -0.5 - eps).all() and (src[:, 0] <= w - 0.5 + eps).all()
                and (src[:, 1] <= h - 0.5 + eps).all())


def _shifted(image: np.ndarray, m: np.ndarray, width: int, height: int, *,
             vertical: bool) -> np.ndarray | None:
    """``m`` moved the least so the frame lies inside the image (the face off-centre), or None
    when the frame is larger than the image. Without ``vertical`` it moves along the eye line
    only (in the photo's axes; heads are near level), so the eyes stay on their line."""
    src = _window(m, width, height)
    h, w = image.shape[:2]
    lo, hi = src.min(axis=0), src.max(axis=0)
    room = np.array([w, h], float)
    if ((hi - lo) > room).any():
        return None
    d = np.clip(np.zeros(2), -0.5 - lo, room - 0.5 - hi)  # the source shift closest to none
    if not vertical and abs(d[1]) > 1e-6:
        return None
    out = m.copy()
    out[:, 2] -= m[:, :2] @ d
    return out


def _smallest(ok: Callable[[float], np.ndarray | None], lo: float, hi: float) -> float | None:
    """The smallest head size in [lo, hi] for which ``ok`` gives a matrix (it is monotone:
    a larger head means a smaller frame in the photo), or None when even ``hi`` fails."""
    if ok(lo) is not None:
        return lo
    if ok(hi) is None:
        return None
    for _ in range(12):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if ok(mid) is not None else (mid, hi)
    return hi


def _fit(image: np.ndarray, face: Face, width: int, height: int, eye_y: float,
         eye_mouth: float, aspect: float, tightest: float = 0.24, closest: float = 0.4
         ) -> tuple[np.ndarray, float, bool] | None:
    """(matrix, head size, shifted) of a frame that stays inside the photo, in order of
    preference: the configured head size centred on the eyes; zoomed in up to ``tightest``,
    centred; the smallest zoom up to ``closest`` with the frame moved sideways (a face near the
    side of a wide photo, a narrow photo: the eyes stay on their line); the smallest zoom with
    the frame moved up or down too. None: even that runs off (the caller then crops the photo's
    centre). A closer or off-centre crop looks better than smeared edge pixels."""
    def matrix(em: float) -> np.ndarray:
        return alignment_matrix(face, size=width, eye_y=eye_y, eye_mouth=em, aspect=aspect)

    def centred(em: float) -> np.ndarray | None:
        m = matrix(em)
        return m if _inside(image, m, width, height) else None

    def sideways(em: float) -> np.ndarray | None:
        return _shifted(image, matrix(em), width, height, vertical=False)

    def anyway(em: float) -> np.ndarray | None:
        return _shifted(image, matrix(em), width, height, vertical=True)

    if (m := centred(eye_mouth)) is not None:
        return m, eye_mouth, False
    if (em := _smallest(centred, eye_mouth, tightest)) is not None:
        return matrix(em), em, False
    for move in (sideways, anyway):
        if (em := _smallest(move, eye_mouth, closest)) is not None:
            moved = move(em)
            assert moved is not None
            return moved, em, True
    return None
