"""Aligned, consistently framed head-and-shoulders crops from a face's 5 keypoints."""

from __future__ import annotations

import cv2
import numpy as np

from headshots.errors import ConfigError
from headshots.faces._protocol import Face

__all__ = ["aligned_crop", "alignment_matrix"]


def alignment_matrix(
    face: Face, *, size: int, eye_y: float = 0.42, eye_mouth: float = 0.16,
    aspect: float = 1.0,
) -> np.ndarray:
    """2x3 similarity transform putting the eyes level at ``eye_y`` of the output height,
    centred, with the eye-to-mouth distance ``eye_mouth`` of the output width (0.16 frames head
    and shoulders; 0.25 a tight face crop). ``aspect`` is height / width of the output."""
    if not 0.02 <= eye_mouth <= 0.6:
        raise ConfigError(f"eye_mouth must be in [0.02, 0.6], got {eye_mouth}", "use 0.16")
    kp = np.asarray(face.keypoints, dtype=np.float64)
    eyes = (kp[0] + kp[1]) / 2
    mouth = (kp[3] + kp[4]) / 2
    eye_vec = kp[1] - kp[0]
    # Eyes level: rotate so the right-to-left eye vector points along +x.
    angle = np.arctan2(eye_vec[1], eye_vec[0])
    scale = eye_mouth * size / max(float(np.linalg.norm(mouth - eyes)), 1e-6)
    c, s = np.cos(-angle) * scale, np.sin(-angle) * scale
    rot = np.array([[c, -s], [s, c]])
    target = np.array([size / 2, eye_y * size * aspect])
    t = target - rot @ eyes
    return np.hstack([rot, t[:, None]])


def aligned_crop(
    image: np.ndarray, face: Face, *, size: int = 512, eye_y: float = 0.42,
    eye_mouth: float = 0.16, aspect: float = 1.0, border: int = cv2.BORDER_REPLICATE,
) -> tuple[np.ndarray, np.ndarray]:
    """The crop (``size`` wide, ``size*aspect`` high, RGB uint8) and the matrix that made it.
    Beyond the frame the edge pixels are repeated, which trains better than black bars."""
    if size < 16:
        raise ConfigError(f"size must be >= 16, got {size}", "use 512 or 1024")
    m = alignment_matrix(face, size=size, eye_y=eye_y, eye_mouth=eye_mouth, aspect=aspect)
    out_h = round(size * aspect)
    shrink = float(np.hypot(m[0, 0], m[0, 1])) < 1.0
    crop = cv2.warpAffine(
        image, m, (size, out_h), flags=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC,
        borderMode=border,
    )
    return crop, m
