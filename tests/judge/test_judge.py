"""The judge on real photos and variants made from them."""

from __future__ import annotations

import numpy as np
import pytest

from headshots.judge import (
    JudgeConfig,
    calibrate,
    face_proportions,
    gaze_and_iris,
    hand_problems,
    judge_candidates,
)
from headshots.media import save_clean
from headshots.types import Candidate, Reason


@pytest.fixture(scope="module")
def calibration(backend, photos):
    refs = [photos["obama"], photos["obama3"]]
    embs = [backend.embed(im, backend.analyse(im, hands=False, mask=False).faces[0])
            for im in refs]
    return calibrate(embs)


class CountingBackend:
    """The real backend, counting embeddings (to show cheap rejections skip them)."""

    def __init__(self, real):
        self.real, self.embeds = real, 0

    def analyse(self, image, **kw):
        return self.real.analyse(image, **kw)

    def embed(self, image, face):
        self.embeds += 1
        return self.real.embed(image, face)


def _cands(tmp_path, images: dict[str, np.ndarray], style="unknown"):
    out = []
    for name, pixels in images.items():
        path = save_clean(pixels, tmp_path / f"{name}.png")
        out.append(Candidate(id=name, path=path, style=style))
    return out


def test_calibration_from_leave_one_out(calibration):
    assert 0.5 <= calibration.threshold <= 0.65
    assert calibration.baseline == pytest.approx(0.34, abs=0.06)
    assert "leave-one-out" in calibration.method
    assert calibrate([np.zeros(128)]).threshold == JudgeConfig().default_threshold


def test_expected_reasons_on_real_photos_and_variants(tmp_path, backend, photos, variants,
                                                      calibration):
    images = {
        "person": photos["obama2"], "mirrored": variants["mirrored"], "other": photos["biden"],
        "two": variants["two_faces"], "blurred": variants["blurred"], "dark": variants["dark"],
        "cut": variants["cut_off_top"], "landscape": variants["landscape"],
        "hand": photos["obama"],
    }
    counting = CountingBackend(backend)
    results = judge_candidates(_cands(tmp_path, images), calibration, backend=counting)
    got = {r.candidate.id: r for r in results}
    # the same person mirrored passes every check, then the duplicate pass keeps one of them
    pair = sorted((got["person"], got["mirrored"]), key=lambda r: not r.accepted)
    assert pair[0].accepted, pair[0].details
    assert pair[1].reasons == [Reason.DUPLICATE] and "mirror image of" in pair[1].details[0]
    assert got["person"].scores["likeness"] > 0.55
    assert Reason.LOW_LIKENESS in got["other"].reasons
    assert Reason.MULTIPLE_FACES in got["two"].reasons
    assert Reason.BLURRY in got["blurred"].reasons
    assert Reason.TOO_DARK in got["dark"].reasons
    assert Reason.FACE_CUT_OFF in got["cut"].reasons
    assert got["landscape"].reasons == [Reason.NO_FACE]
    assert got["hand"].accepted  # a plausible hand is fine when no style asks for a headshot
    # no embedding where a cheaper check already failed (no face, two faces, blur, dark, cut)
    assert counting.embeds == 4
    for r in results:
        assert r.accepted or r.reasons
        assert r.accepted == (not r.reasons)


def test_any_hand_fails_a_head_and_shoulders_style(tmp_path, backend, photos, calibration):
    (r,) = judge_candidates(_cands(tmp_path, {"hand": photos["obama"]}, "corporate-grey"),
                            calibration, backend=backend)
    assert r.reasons == [Reason.BAD_HANDS]


def test_duplicates_keep_the_best(tmp_path, backend, photos, variants, calibration):
    import cv2

    resaved = cv2.resize(photos["obama2"], None, fx=0.8, fy=0.8)
    results = judge_candidates(
        _cands(tmp_path, {"a": photos["obama2"], "b": resaved, "c": variants["mirrored"]}),
        calibration, backend=backend)
    reasons = {r.candidate.id: r.reasons for r in results}
    # the resized copy and the mirror image both duplicate the one kept
    assert sorted(reasons.values(), key=len) == [[], [Reason.DUPLICATE], [Reason.DUPLICATE]]


def test_eye_and_proportion_measures(backend, photos):
    mesh = backend.analyse(photos["obama2"], hands=False, mask=False).faces[0].mesh.copy()
    gaze, iris = gaze_and_iris(mesh)
    assert gaze < 0.15 and iris < 1.2
    cross = mesh.copy()
    shift = (mesh[263, :2] - mesh[362, :2]) * 0.4  # push one iris towards its outer corner
    cross[473:478, :2] += shift
    assert gaze_and_iris(cross)[0] > JudgeConfig().max_gaze_asymmetry
    big = mesh.copy()
    big[474:478, :2] = mesh[473, :2] + (mesh[474:478, :2] - mesh[473, :2]) * 1.8
    assert gaze_and_iris(big)[1] > JudgeConfig().max_iris_size_ratio
    props = face_proportions(mesh)
    lo, hi = JudgeConfig().nose_face_ratio
    assert lo <= props["nose_face"] <= hi
    long_nose = mesh.copy()
    long_nose[1, 1] += (mesh[152, 1] - mesh[10, 1]) * 0.3
    assert face_proportions(long_nose)["nose_face"] > hi


def test_hand_plausibility(backend, photos):
    real = backend.analyse(photos["obama"]).hands[0].landmarks
    assert hand_problems(real) == []
    stretched = real.copy()
    stretched[8, :2] = real[7, :2] + (real[8, :2] - real[7, :2]) * 6  # an absurd fingertip
    assert any("finger 1" in p for p in hand_problems(stretched))
    scrambled = np.random.default_rng(0).permutation(real)
    assert hand_problems(scrambled)


def test_two_worker_processes_agree_with_one(tmp_path, backend, photos, calibration):
    images = {f"{n}{i}": photos[n] for i in range(2) for n in ("obama2", "biden")}
    cands = _cands(tmp_path, images)
    one = judge_candidates(cands, calibration, backend=backend)
    two = judge_candidates(cands, calibration, workers=2)
    assert [r.reasons for r in one] == [r.reasons for r in two]
    assert [r.scores["likeness"] for r in one] == pytest.approx(
        [r.scores["likeness"] for r in two], abs=1e-3)
