"""Variants of the real photos, made once per session."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image


def jpeg(pixels: np.ndarray, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def face_box(backend, img):
    return backend.analyse(img, hands=False, mask=False).faces[0].box


@pytest.fixture(scope="session")
def variants(backend, photos) -> dict[str, np.ndarray]:
    ob, ob2, ob3 = photos["obama"], photos["obama2"], photos["obama3"]
    out: dict[str, np.ndarray] = {}
    out["blurred"] = cv2.GaussianBlur(ob, (0, 0), 3)
    out["dark"] = (ob.astype(np.float32) * 0.22).astype(np.uint8)
    out["bright"] = (255 - (255 - ob.astype(np.float32)) * 0.12).astype(np.uint8)
    box = face_box(backend, ob)
    out["cut_off_top"] = np.ascontiguousarray(ob[int(box.y0 + box.height * 0.25):])
    out["cut_off_side"] = np.ascontiguousarray(ob[:, int(box.x0 + box.width * 0.3):])
    out["cut_off_chin"] = np.ascontiguousarray(ob[: int(box.y0 + box.height * 0.85)])
    out["mirrored"] = np.ascontiguousarray(ob2[:, ::-1])
    # two people side by side, similar size
    h = min(ob3.shape[0], photos["biden"].shape[0])
    out["two_faces"] = np.hstack([ob3[:h], photos["biden"][:h]])
    # a tiny bystander in the corner does not make it a group photo
    small = cv2.resize(photos["biden"], None, fx=0.22, fy=0.22, interpolation=cv2.INTER_AREA)
    bystander = ob.copy()
    bystander[10:10 + small.shape[0], 10:10 + small.shape[1]] = small
    out["bystander"] = bystander
    # the person far away in a big frame
    tiny = cv2.resize(ob, None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    canvas = np.full((1000, 1000, 3), 200, np.uint8)
    canvas[400:400 + tiny.shape[0], 400:400 + tiny.shape[1]] = tiny
    out["far_away"] = canvas
    # sunglasses: dark lenses over both eyes
    f = backend.analyse(ob, hands=False, mask=False).faces[0]
    glasses = ob.copy()
    eye_dist = float(np.linalg.norm(f.keypoints[1] - f.keypoints[0]))
    for i in (0, 1):
        x, y = f.keypoints[i]
        cv2.ellipse(glasses, (int(x), int(y)), (int(eye_dist * 0.33), int(eye_dist * 0.22)), 0, 0,
                    360, (18, 18, 22), -1)
    cv2.line(glasses, tuple(int(v) for v in f.keypoints[0]), tuple(int(v) for v in f.keypoints[1]),
             (18, 18, 22), 3)
    out["sunglasses"] = glasses
    # the same shot resized and recompressed
    out["resaved"] = cv2.resize(ob, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    out["landscape"] = photos["astronaut"][:140, 330:]  # the shuttle, no face
    return out
