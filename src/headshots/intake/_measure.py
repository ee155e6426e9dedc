"""Measurements of one photo's face: sharpness, exposure, eyes, framing, and small descriptors
for duplicates, lighting and background. Pure numpy/OpenCV over the backend's analysis."""

from __future__ import annotations

import cv2
import numpy as np

from headshots.config import FaceQualityConfig
from headshots.faces import Analysis, Face
from headshots.types import Reason

__all__ = [
    "face_region",
    "face_quality",
    "sharpness",
    "sharpness_region",
    "exposure",
    "eye_evidence",
    "cut_off",
    "thumbnail",
    "thumb_distance",
    "lighting",
    "background",
]

_SIDE = 256  # face crops are normalised to this size so thresholds do not depend on resolution
# Sharpness is measured on the face at most this large: a face rendered larger carries no more
# detail per face, only more pixels, and enlarging a smaller face would invent softness.
_SHARP_SIDE = 128
# Mesh indices (person's right / left): eye contour points and a cheek point below each eye.
_EYES = ((33, 133, 159, 145, 160, 144, 158, 153), (263, 362, 386, 374, 385, 380, 387, 373))
_CHEEKS = (205, 425)


def face_region(image: np.ndarray, face: Face, side: int = _SIDE) -> np.ndarray:
    """The face box (clipped to the frame) resized to ``side`` x ``side`` grey levels."""
    h, w = image.shape[:2]
    x0, y0 = max(int(face.box.x0), 0), max(int(face.box.y0), 0)
    x1, y1 = min(int(np.ceil(face.box.x1)), w), min(int(np.ceil(face.box.y1)), h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return np.zeros((side, side), np.uint8)
    grey = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA)


def sharpness_region(image: np.ndarray, face: Face, side: int = _SHARP_SIDE) -> np.ndarray:
    """The face box (clipped to the frame) in grey levels, shrunk so its long side is at most
    ``side`` and never enlarged: the measure then sees detail per face, not per pixel."""
    h, w = image.shape[:2]
    x0, y0 = max(int(face.box.x0), 0), max(int(face.box.y0), 0)
    x1, y1 = min(int(np.ceil(face.box.x1)), w), min(int(np.ceil(face.box.y1)), h)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return np.zeros((side, side), np.uint8)
    grey = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    scale = side / max(grey.shape)
    if scale >= 1:
        return grey
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _sobel(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))


def sharpness(face_grey: np.ndarray) -> float:
    """How much of the strongest edges' gradient one more pixel of blur takes away (0-1).

    Over the face's strongest 10 % of edges (eyes, lashes, brows, lips, hair), the share of the
    gradient that a Gaussian blur of 1 px removes; the lowest of four directions, so a shake
    that smears one direction only is still caught. Sharp faces lose ~0.22-0.33 (at 128 px),
    blurred ones < 0.16 (see docs/judge.md). A ratio, so contrast and exposure cancel out;
    over edges only, so smooth (retouched) skin is not blur."""
    grey = face_grey.astype(np.float32)
    sx, sy = _sobel(grey)
    bx, by = _sobel(cv2.GaussianBlur(grey, (0, 0), 1.0))
    losses = []
    for c, s in ((1.0, 0.0), (0.7071, 0.7071), (0.0, 1.0), (-0.7071, 0.7071)):
        before = np.abs(c * sx + s * sy)
        strong = before >= np.percentile(before, 90)
        total = float(before[strong].sum())
        if total < 2.0 * strong.sum():  # under half a grey level per pixel: no edge to be sharp
            return 0.0
        losses.append(1.0 - float(np.abs(c * bx + s * by)[strong].sum()) / total)
    return float(np.clip(min(losses), 0.0, 1.0))


def exposure(face_grey: np.ndarray) -> tuple[float, float, float]:
    """(mean luma, share of pixels <= 5, share >= 250) over the inner face."""
    inner = face_grey[_SIDE // 8 : -_SIDE // 8, _SIDE // 8 : -_SIDE // 8].astype(np.float32)
    return float(inner.mean()), float((inner <= 5).mean()), float((inner >= 250).mean())


def eye_evidence(image: np.ndarray, face: Face) -> tuple[float, float]:
    """(eye/cheek brightness ratio, eye/cheek detail ratio), the lower eye of the two.

    An open eye shows bright sclera beside a dark iris: its region is ~0.5-0.7 as bright as the
    cheek below it and full of detail. Sunglasses make it ~0.1-0.3 as bright; a hand or hair
    over it leaves almost no detail."""
    if face.mesh is None:
        return 1.0, 1.0
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    h, w = grey.shape
    ratios, details = [], []
    for eye, cheek in zip(_EYES, _CHEEKS, strict=True):
        pts = face.mesh[list(eye), :2]
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        ew = max(x1 - x0, 2.0)
        cy = (y0 + y1) / 2
        region = grey[
            int(np.clip(cy - ew * 0.35, 0, h - 1)) : int(np.clip(cy + ew * 0.35, 1, h)),
            int(np.clip(x0, 0, w - 1)) : int(np.clip(x1, 1, w)),
        ]
        cx, cyc = face.mesh[cheek, :2]
        r = max(int(ew * 0.2), 2)
        patch = grey[
            int(np.clip(cyc - r, 0, h - 1)) : int(np.clip(cyc + r, 1, h)),
            int(np.clip(cx - r, 0, w - 1)) : int(np.clip(cx + r, 1, w)),
        ]
        if region.size == 0 or patch.size == 0:
            continue
        skin = max(float(patch.mean()), 1.0)
        ratios.append(float(region.mean()) / skin)
        details.append(float(region.std()) / skin)
    if not ratios:
        return 1.0, 1.0
    return float(np.mean(ratios)), float(min(details))


def face_quality(
    image: np.ndarray, face: Face, config: FaceQualityConfig
) -> tuple[dict[str, float], list[tuple[Reason, str]]]:
    """Sharpness and exposure of the face: the numbers, and the reasons they fail (if any)."""
    sharp = sharpness(sharpness_region(image, face))
    luma, dark, bright = exposure(face_region(image, face))
    reasons = []
    if sharp < config.blur_threshold:
        reasons.append((Reason.BLURRY, f"sharpness {sharp:.2f}"))
    if luma < config.dark_threshold or dark > config.clipped_fraction:
        reasons.append((Reason.TOO_DARK, f"face luma {luma:.0f}"))
    if luma > config.bright_threshold or bright > config.clipped_fraction:
        reasons.append((Reason.TOO_BRIGHT, f"face luma {luma:.0f}"))
    metrics = {"sharpness": sharp, "face_luma": luma, "clipped_dark": dark,
               "clipped_bright": bright}
    return metrics, reasons


def cut_off(analysis: Analysis, face: Face, margin: float = 0.0) -> bool:
    """True when the face box or its mesh (forehead to chin) runs past the frame."""
    w, h = analysis.width, analysis.height
    if not face.box.inside(w, h, margin=-margin * face.box.height):
        return True
    if face.mesh is not None:
        xy = face.mesh[:, :2]
        return bool((xy < 0).any() or (xy[:, 0] >= w).any() or (xy[:, 1] >= h).any())
    return False


def thumbnail(image: np.ndarray) -> np.ndarray:
    """A 24x24 grey, zero-mean unit-norm descriptor of the whole shot, for near-duplicates:
    resizing and recompression barely move it, another pose or place moves it a lot."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (24, 24), interpolation=cv2.INTER_AREA).astype(np.float32)
    small -= small.mean()
    return small / max(float(np.linalg.norm(small)), 1e-6)


def thumb_distance(a: np.ndarray, b: np.ndarray) -> float:
    """0 for the same shot, ~1 for unrelated ones (1 - correlation)."""
    return float(1.0 - np.dot(a.ravel(), b.ravel()))


def lighting(image: np.ndarray, face: Face) -> dict[str, float]:
    """Face brightness, left/right balance (directional light) and warmth (R/B) of the face."""
    h, w = image.shape[:2]
    x0, y0 = max(int(face.box.x0), 0), max(int(face.box.y0), 0)
    x1, y1 = min(int(face.box.x1), w), min(int(face.box.y1), h)
    region = image[y0:y1, x0:x1].astype(np.float32)
    if region.size == 0:
        return {"luma": 0.0, "balance": 0.0, "warmth": 1.0}
    luma = region.mean(axis=2)
    half = luma.shape[1] // 2
    left, right = float(luma[:, :half].mean()), float(luma[:, half:].mean())
    return {
        "luma": float(luma.mean()),
        "balance": (left - right) / max(left + right, 1.0),
        "warmth": float(region[..., 0].mean() / max(region[..., 2].mean(), 1.0)),
    }


def background(image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Mean Lab colour and texture of the background (where the person mask is low)."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    sel = (mask < 0.3) if mask is not None else np.ones(image.shape[:2], bool)
    if sel.mean() < 0.05:  # the person fills the frame: fall back to the border
        sel = np.zeros(image.shape[:2], bool)
        sel[: image.shape[0] // 10] = True
    pixels = lab[sel]
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    texture = float(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[sel].mean())
    return np.array([*pixels.mean(axis=0), texture], dtype=np.float32)
