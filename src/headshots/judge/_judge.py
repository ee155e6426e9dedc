"""Judge generated candidates: every rejection has a reason, likeness is calibrated on the
person's own photos, accepted candidates get likeness, quality and a rank score."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from headshots.errors import ImageError
from headshots.faces import FaceBackend, aligned_crop
from headshots.intake import _measure as m
from headshots.judge._config import JudgeConfig
from headshots.judge._geometry import face_proportions, gaze_and_iris, hand_problems
from headshots.media import decode_image, downscale
from headshots.types import Candidate, Reason

__all__ = ["LikenessCalibration", "JudgeResult", "calibrate", "judge_one", "judge_candidates"]

ProgressFn = Callable[[int, int, str], None]


@dataclass(frozen=True)
class LikenessCalibration:
    references: np.ndarray  # (n, 128) the person's embeddings
    threshold: float
    baseline: float | None  # mean leave-one-out distance among the person's own photos
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {"references": len(self.references), "threshold": round(self.threshold, 4),
                "baseline_distance": None if self.baseline is None else round(self.baseline, 4),
                "method": self.method}


def calibrate(embeddings: Sequence[np.ndarray], config: JudgeConfig | None = None
              ) -> LikenessCalibration:
    """The likeness threshold from how much this person's own photos differ from each other:
    each photo's mean distance to the others (leave one out); the worst of those plus a margin,
    clamped to a sane range."""
    config = config or JudgeConfig()
    refs = np.stack([np.asarray(e, np.float32) for e in embeddings]) if len(embeddings) else \
        np.zeros((0, 128), np.float32)
    if len(refs) < 2:
        return LikenessCalibration(
            refs, config.default_threshold, None,
            f"fewer than 2 reference photos: default {config.default_threshold}",
        )
    d = np.linalg.norm(refs[:, None] - refs[None], axis=2)
    loo = d.sum(axis=1) / (len(refs) - 1)
    lo, hi = config.likeness_bounds
    raw = float(loo.max()) + config.likeness_margin
    threshold = float(np.clip(raw, lo, hi))
    return LikenessCalibration(
        refs, threshold, float(loo.mean()),
        f"worst leave-one-out distance {loo.max():.3f} among {len(refs)} reference photos + "
        f"margin {config.likeness_margin} = {raw:.3f}, clamped to [{lo}, {hi}]",
    )


@dataclass
class JudgeResult:
    candidate: Candidate
    reasons: list[Reason] = field(default_factory=list)
    scores: dict[str, float | None] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    features: dict[str, Any] = field(default_factory=dict, repr=False)  # for select

    @property
    def accepted(self) -> bool:
        return not self.reasons

    def add(self, reason: Reason, detail: str = "") -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)
        if detail:
            self.details.append(detail)


def _head_and_shoulders(candidate: Candidate) -> bool:
    return candidate.style != "unknown"  # every catalog style frames head and shoulders


def judge_one(candidate: Candidate, backend: FaceBackend, calibration: LikenessCalibration,
              config: JudgeConfig) -> JudgeResult:
    """Judge one candidate on its own (duplicates are a set-level pass)."""
    r = JudgeResult(candidate=candidate, scores={"likeness": None, "quality": None,
                                                 "rank_score": None})
    try:
        pixels = decode_image(candidate.path, name=candidate.path.name).pixels
    except ImageError as exc:
        r.add(exc.reason, exc.problem)
        return r
    image, _ = downscale(pixels, config.work_side)
    del pixels
    r.features["thumb"] = m.thumbnail(image)
    lab = m.background(image, None)
    r.features["colour"] = lab[:3]
    analysis = backend.analyse(image, hands=True, mask=False)
    faces = [f for f in analysis.faces if f.score >= config.min_detection_score]
    if not faces:
        r.add(Reason.NO_FACE)
        return r  # nothing else can be measured; the embedding is skipped
    face = faces[0]
    # the same shot shifted or zoomed by a few percent already moves the whole-frame thumbnail
    # past its threshold; an eye-aligned view of the head does not move (as intake does)
    head = aligned_crop(image, face, size=64, eye_mouth=0.3, eye_y=0.45)[0]
    r.features["head"] = m.thumbnail(head)
    if any(f.box.area >= config.second_face_area_ratio * face.box.area for f in faces[1:]):
        r.add(Reason.MULTIPLE_FACES)
    fraction = face.box.height / analysis.height
    if fraction < config.min_face_fraction:
        r.add(Reason.FACE_TOO_SMALL, f"face is {fraction:.0%} of the height")
    if m.cut_off(analysis, face):
        r.add(Reason.FACE_CUT_OFF)
    measured, failed = m.face_quality(image, face, config.quality)
    sharp, luma = measured["sharpness"], measured["face_luma"]
    for reason, detail in failed:
        r.add(reason, detail)
    for hand in analysis.hands:
        problems = hand_problems(hand.landmarks)
        if problems:
            r.add(Reason.BAD_HANDS, "; ".join(problems))
        elif _head_and_shoulders(candidate) and not config.hands_allowed_in_headshots:
            r.add(Reason.BAD_HANDS, "a hand in a head-and-shoulders headshot")
    if face.mesh is not None:
        gaze, iris = gaze_and_iris(face.mesh)
        r.scores.update(gaze_asymmetry=round(gaze, 3), iris_ratio=round(iris, 3))
        if gaze > config.max_gaze_asymmetry or iris > config.max_iris_size_ratio:
            r.add(Reason.EYES_OFF, f"gaze asymmetry {gaze:.2f}, iris size ratio {iris:.2f}")
        props = face_proportions(face.mesh)
        for key, (lo, hi) in (("eye_face", config.eye_face_ratio),
                              ("nose_face", config.nose_face_ratio),
                              ("mouth_eye", config.mouth_eye_ratio)):
            if not lo <= props[key] <= hi:
                r.add(Reason.DISTORTED_FACE, f"{key} {props[key]:.2f} outside [{lo}, {hi}]")
    yaw = face.pose.yaw if face.pose else 0.0
    pitch = face.pose.pitch if face.pose else 0.0
    r.features["pose"] = np.array([yaw, pitch], np.float32)
    quality = float(np.mean([
        min(sharp / 0.28, 1.0), 1.0 - min(abs(luma - 135.0) / 120.0, 1.0),
        min(fraction / 0.35, 1.0), 1.0 - min(abs(yaw) / 60.0, 1.0),
    ]))
    r.scores["quality"] = round(quality, 4)
    # the embedding is the judge's most expensive step: skip it once the candidate has failed
    if len(calibration.references) and r.accepted:
        vec = backend.embed(image, face)
        dist = float(np.linalg.norm(calibration.references - vec, axis=1).mean())
        r.scores.update(identity_distance=round(dist, 4),
                        likeness=round(float(np.clip(1 - dist, 0, 1)), 4))
        if dist > calibration.threshold:
            r.add(Reason.LOW_LIKENESS, f"distance {dist:.3f} > {calibration.threshold:.3f}")
    likeness = r.scores["likeness"] if r.scores["likeness"] is not None else 0.0
    r.scores["rank_score"] = round(config.likeness_weight * likeness
                                   + (1 - config.likeness_weight) * quality, 4)
    return r


_worker: dict[str, Any] = {}


def _init_worker(calibration: LikenessCalibration, config: JudgeConfig) -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    from headshots.faces import MediapipeDlibBackend

    _worker.update(backend=MediapipeDlibBackend(), calibration=calibration, config=config)


def _judge_in_worker(candidate: Candidate) -> JudgeResult:
    return judge_one(candidate, _worker["backend"], _worker["calibration"], _worker["config"])


def _results(candidates: Sequence[Candidate], backend: FaceBackend | None,
             calibration: LikenessCalibration, config: JudgeConfig, workers: int
             ) -> Iterator[JudgeResult]:
    if workers <= 1 or backend is not None or len(candidates) < 2 * workers:
        from headshots.faces import default_backend

        b = backend or default_backend()
        for c in candidates:
            yield judge_one(c, b, calibration, config)
        return
    import multiprocessing

    # spawn, not fork: mediapipe and torch threads in the parent make forked children crash
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(calibration, config)) as pool:
        yield from pool.map(_judge_in_worker, candidates, chunksize=4)


def judge_candidates(
    candidates: Sequence[Candidate], calibration: LikenessCalibration,
    config: JudgeConfig | None = None, *, backend: FaceBackend | None = None, workers: int = 1,
    on_progress: ProgressFn | None = None,
) -> list[JudgeResult]:
    """Judge every candidate, then flag near-duplicates (the higher rank score stays).
    ``workers`` > 1 uses that many processes, each with its own real backend (a given
    ``backend`` means one process)."""
    config = config or JudgeConfig()
    results = []
    for i, r in enumerate(_results(candidates, backend, calibration, config, workers)):
        results.append(r)
        if on_progress:
            on_progress(i + 1, len(candidates), r.candidate.path.name)
    _flag_duplicates(results, config)
    return results


def _flag_duplicates(results: list[JudgeResult], config: JudgeConfig) -> None:
    """Best rank score first; a candidate near-identical to an accepted one kept before it, or
    its mirror image, is a duplicate. Kept descriptors live in matrices, so each candidate is
    one product each."""
    ranked = sorted((r for r in results if "thumb" in r.features),
                    key=lambda r: -(r.scores.get("rank_score") or 0.0))
    if not ranked:
        return
    dim = ranked[0].features["thumb"].size
    thumbs = np.zeros((len(ranked), dim), np.float32)
    heads = np.zeros((len(ranked), dim), np.float32)
    has_head = np.zeros(len(ranked), bool)
    kept: list[JudgeResult] = []
    for r in ranked:
        n, thumb, head = len(kept), r.features["thumb"].ravel(), r.features.get("head")
        near = 1.0 - thumbs[:n] @ thumb < config.duplicate_distance
        mirror = np.zeros(n, bool)
        if head is not None:
            near |= has_head[:n] & (1.0 - heads[:n] @ head.ravel()
                                    < config.duplicate_head_distance)
            # the head view is centred on the eyes, so flipping it is the mirror image's view
            mirror = has_head[:n] & ~near & (1.0 - heads[:n] @ head[:, ::-1].ravel()
                                             < config.duplicate_head_distance)
        if near.any():
            twin = kept[int(np.argmax(near))]
            r.add(Reason.DUPLICATE, f"near-identical to {twin.candidate.path.name}")
        elif mirror.any():
            twin = kept[int(np.argmax(mirror))]
            r.add(Reason.DUPLICATE, f"mirror image of {twin.candidate.path.name}")
        elif r.accepted:
            thumbs[n] = thumb
            if head is not None:
                heads[n], has_head[n] = head.ravel(), True
            kept.append(r)
