"""Near-duplicates that a whole-frame thumbnail misses: the same shot shifted or zoomed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from headshots.intake import _measure as m
from headshots.judge import JudgeConfig, calibrate, judge_candidates
from headshots.media import save_clean
from headshots.pipeline import judge_and_select
from headshots.types import Candidate, Reason


@pytest.fixture(scope="module")
def calibration(backend, photos):
    return calibrate([backend.embed(im, backend.analyse(im, hands=False, mask=False).faces[0])
                      for im in (photos["obama"], photos["obama3"])])


def _reframed(photo: np.ndarray) -> dict[str, np.ndarray]:
    """One shot framed four ways: centred, shifted 2 % either way, zoomed in 8 %."""
    h, w = photo.shape[:2]
    s, z = 12, int(w * 0.04)
    return {
        "centred": photo[:, s:w - s],
        "left": photo[:, : w - 2 * s],
        "right": photo[:, 2 * s:],
        "zoomed": cv2.resize(photo[z:h - z, z + s:w - z - s], (w - 2 * s, h)),
    }


def _cands(tmp_path, images):
    return [Candidate(id=k, path=save_clean(np.ascontiguousarray(v), tmp_path / f"{k}.png"))
            for k, v in images.items()]


def test_shifted_and_zoomed_copies_are_duplicates(tmp_path, backend, photos, variants,
                                                  calibration):
    shots = _reframed(photos["obama2"])
    # the whole-frame thumbnail alone does not see these as one shot
    frame = {k: m.thumbnail(v) for k, v in shots.items()}
    assert m.thumb_distance(frame["left"], frame["right"]) > JudgeConfig().duplicate_distance
    images = {**shots, "other_photo": photos["obama"]}
    results, selected = judge_and_select(_cands(tmp_path, images), calibration, backend=backend)
    got = {r.candidate.id: r for r in results}
    copies = [got[k] for k in shots]
    kept = [r for r in copies if r.accepted]
    assert len(kept) == 1, [(r.candidate.id, r.reasons) for r in copies]
    best = max(copies, key=lambda r: r.scores["rank_score"])
    assert kept == [best]
    assert all(r.reasons == [Reason.DUPLICATE] for r in copies if r is not best)
    # another photo of the person is not a copy
    assert got["other_photo"].accepted
    assert len(selected) == 2 and best.candidate.id in selected


def test_a_mirror_image_is_a_duplicate_of_its_original(tmp_path, backend, photos, variants,
                                                       calibration):
    # the demo's stand-ins once delivered obama2 and its mirror image side by side
    images = {"original": photos["obama2"], "mirrored": variants["mirrored"],
              "other_photo": photos["obama"], "other_mirrored": photos["obama"][:, ::-1]}
    results, selected = judge_and_select(_cands(tmp_path, images), calibration, backend=backend)
    got = {r.candidate.id: r for r in results}
    for a, b in (("original", "mirrored"), ("other_photo", "other_mirrored")):
        kept, dropped = sorted((got[a], got[b]), key=lambda r: not r.accepted)
        assert kept.accepted, kept.reasons
        assert dropped.reasons == [Reason.DUPLICATE]
        assert dropped.details == [f"mirror image of {kept.candidate.path.name}"]
    assert len(selected) == 2


def test_a_rejected_copy_does_not_hide_an_accepted_one(tmp_path, backend, photos, calibration):
    sharp = photos["obama2"]
    blurred = cv2.GaussianBlur(sharp, (0, 0), 3)
    results = judge_candidates(_cands(tmp_path, {"blurred": blurred, "sharp": sharp}),
                               calibration, backend=backend)
    got = {r.candidate.id: r for r in results}
    assert got["sharp"].accepted
    assert Reason.BLURRY in got["blurred"].reasons
