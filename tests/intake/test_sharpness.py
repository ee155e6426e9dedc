"""The shared sharpness measure (intake's selfie check and the judge): the verdict depends on
the face, not on how many pixels it was rendered with. Real photos framed head-and-shoulders
at 512, 768 and 1024 px (faces ~190-500 px tall, as SD1.5 and SDXL render them): sharp and
retouched-looking faces pass at every size, blurred ones fail at every size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from headshots.config import FaceQualityConfig
from headshots.faces import aligned_crop
from headshots.intake import _measure as m
from headshots.judge import JudgeConfig, calibrate, judge_one
from headshots.media import downscale, save_clean
from headshots.types import Candidate, Reason

SIZES = (512, 768, 1024)
NAMES = ("obama", "obama2", "obama3", "biden", "astronaut")


def motion_blur(image: np.ndarray, length: int, angle: float) -> np.ndarray:
    k = np.zeros((2 * length + 1, 2 * length + 1), np.float32)
    k[length, :] = 1
    k = cv2.warpAffine(k, cv2.getRotationMatrix2D((length, length), angle, 1), k.shape)
    return cv2.filter2D(image, -1, k / k.sum())


def looks(photo: np.ndarray, face_height: float) -> dict[str, np.ndarray]:
    """One photo as sharp, retouched (skin smoothed, edges kept) and blurred three ways; every
    strength relative to the face height, so each look is the same whatever the framing."""
    h = face_height
    return {
        "sharp": photo,
        "retouched": cv2.bilateralFilter(photo, 0, 60, h * 0.04),
        "blurred": cv2.GaussianBlur(photo, (0, 0), h * 0.015),
        "slightly_blurred": cv2.GaussianBlur(photo, (0, 0), h * 0.01),
        "shaken": motion_blur(photo, round(h * 0.03), 45),
    }


@pytest.fixture(scope="module")
def framed(backend, photos) -> dict[tuple[str, str, int], np.ndarray]:
    """(photo, look, size) -> the look framed head-and-shoulders at that size."""
    out = {}
    for name in NAMES:
        face = backend.analyse(photos[name], hands=False, mask=False).faces[0]
        for look, image in looks(photos[name], face.box.height).items():
            for size in SIZES:
                out[name, look, size] = aligned_crop(image, face, size=size, eye_mouth=0.16)[0]
    return out


def measure(backend, image: np.ndarray) -> tuple[float, bool]:
    face = backend.analyse(image, hands=False, mask=False).faces[0]
    metrics, failed = m.face_quality(image, face, FaceQualityConfig())
    return metrics["sharpness"], any(r is Reason.BLURRY for r, _ in failed)


@pytest.mark.parametrize("name", NAMES)
def test_same_face_same_verdict_at_every_size(backend, framed, name):
    expected = {"sharp": False, "retouched": False, "blurred": True, "slightly_blurred": True,
                "shaken": True}
    for look, blurry in expected.items():
        got = {size: measure(backend, framed[name, look, size]) for size in SIZES}
        assert all(v[1] is blurry for v in got.values()), (look, got)
        values = [v[0] for v in got.values()]
        assert max(values) - min(values) < 0.03, (look, got)  # the size barely moves it


def test_sd15_sized_faces_are_not_blurry_but_were_under_the_old_measure(backend, framed):
    # faces ~190-250 px tall at 512 px: the old 256 px variance of the Laplacian (< 60:
    # blurry) rejected three of the five sharp photos
    old = []
    for name in NAMES:
        image = framed[name, "sharp", 512]
        face = backend.analyse(image, hands=False, mask=False).faces[0]
        assert 150 < face.box.height < 300
        old.append(cv2.Laplacian(m.face_region(image, face), cv2.CV_64F).var() < 60)
        assert not measure(backend, image)[1]
    assert sum(old) >= 2


def test_contrast_and_exposure_cancel_out(backend, photos):
    photo = photos["obama"]
    face = backend.analyse(photo, hands=False, mask=False).faces[0]
    flat = (photo.astype(np.float32) * 0.5 + 60).astype(np.uint8)
    a = m.sharpness(m.sharpness_region(photo, face))
    b = m.sharpness(m.sharpness_region(flat, face))
    assert abs(a - b) < 0.02, (a, b)


def test_faces_are_shrunk_never_enlarged(photos):
    from headshots.faces import Box, Face

    face = Face(box=Box(10, 20, 110, 140), score=0.9, keypoints=np.zeros((5, 2)))
    assert m.sharpness_region(photos["obama"], face).shape == (120, 100)  # as it is
    big = Face(box=Box(0, 0, 400, 500), score=0.9, keypoints=np.zeros((5, 2)))
    assert max(m.sharpness_region(photos["obama"], big).shape) == 128
    assert m.sharpness(np.full((64, 64), 128, np.uint8)) == 0.0  # no edges: not sharp


def test_judge_accepts_sharp_sd15_framing_and_rejects_the_blurred(tmp_path, backend, photos,
                                                                  framed):
    refs = [photos["obama"], photos["obama3"]]
    cal = calibrate([backend.embed(r, backend.analyse(r, hands=False, mask=False).faces[0])
                     for r in refs])
    config = JudgeConfig()
    for look, size in (("sharp", 512), ("retouched", 512), ("sharp", 1024), ("blurred", 512),
                       ("blurred", 1024)):
        image = framed["obama2", look, size]
        path = save_clean(image, tmp_path / f"{look}-{size}.png")
        r = judge_one(Candidate(id=path.stem, path=path, style="corporate-grey"), backend,
                      cal, config)
        assert (Reason.BLURRY in r.reasons) is (look == "blurred"), (look, size, r.details)


def test_blurred_selfies_at_intake_size_still_fail(backend, photos):
    for name in NAMES:
        image, _ = downscale(cv2.GaussianBlur(photos[name], (0, 0), 3), 1024)
        assert measure(backend, image)[1], name
