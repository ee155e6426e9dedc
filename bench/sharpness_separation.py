"""Measurement: how far apart sharp, retouched and blurred faces are under the shared sharpness
measure, per framing size, on the five test photos (the numbers in docs/judge.md). The old
measure (variance of the Laplacian on the face resized to 256 px) is printed beside it.

Run: .venv/bin/python bench/sharpness_separation.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from headshots.config import FaceQualityConfig  # noqa: E402
from headshots.faces import MediapipeDlibBackend, aligned_crop  # noqa: E402
from headshots.intake import _measure as m  # noqa: E402

NAMES = ("obama", "obama2", "obama3", "biden", "astronaut")


def motion_blur(image: np.ndarray, length: int, angle: float) -> np.ndarray:
    k = np.zeros((2 * length + 1, 2 * length + 1), np.float32)
    k[length, :] = 1
    k = cv2.warpAffine(k, cv2.getRotationMatrix2D((length, length), angle, 1), k.shape)
    return cv2.filter2D(image, -1, k / k.sum())


def looks(photo: np.ndarray, h: float) -> dict[str, np.ndarray]:
    return {
        "sharp": photo,
        "retouched (bilateral 60, 4 %)": cv2.bilateralFilter(photo, 0, 60, h * 0.04),
        "retouched hard (bilateral 75, 5 %)": cv2.bilateralFilter(photo, 0, 75, h * 0.05),
        "Gaussian 0.75 %": cv2.GaussianBlur(photo, (0, 0), h * 0.0075),
        "Gaussian 1 %": cv2.GaussianBlur(photo, (0, 0), h * 0.01),
        "Gaussian 1.5 %": cv2.GaussianBlur(photo, (0, 0), h * 0.015),
        "shake 2 %, 0°/45°/90°": np.stack([motion_blur(photo, max(round(h * 0.02), 2), a)
                                          for a in (0, 45, 90)]),
    }


def main() -> None:
    backend = MediapipeDlibBackend()
    new: dict[tuple[str, int], list[float]] = {}
    old: dict[tuple[str, int], list[float]] = {}
    for name in NAMES:
        with Image.open(ROOT / "tests" / "data" / f"{name}.jpg") as im:
            photo = np.asarray(im.convert("RGB"))
        face = backend.analyse(photo, hands=False, mask=False).faces[0]
        for look, images in looks(photo, face.box.height).items():
            for image in images if images.ndim == 4 else [images]:
                for size in (512, 768, 1024):
                    framed = aligned_crop(image, face, size=size, eye_mouth=0.16)[0]
                    f = backend.analyse(framed, hands=False, mask=False).faces[0]
                    new.setdefault((look, size), []).append(
                        m.sharpness(m.sharpness_region(framed, f)))
                    old.setdefault((look, size), []).append(float(
                        cv2.Laplacian(m.face_region(framed, f), cv2.CV_64F).var()))
    print(f"blur_threshold {FaceQualityConfig().blur_threshold} (blurry below)\n")
    print("| look (strength / face height) | 512 px | 768 px | 1024 px | old measure, 512 px |")
    print("|---|---|---|---|---|")
    for look in dict.fromkeys(k for k, _ in new):
        cells = [f"{min(new[look, s]):.3f}–{max(new[look, s]):.3f}" for s in (512, 768, 1024)]
        o = old[look, 512]
        print(f"| {look} | {' | '.join(cells)} | {min(o):.0f}–{max(o):.0f} |")


if __name__ == "__main__":
    main()
