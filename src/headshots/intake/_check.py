"""Per-photo checks and the whole-set check of ``headshots check``."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path

from headshots.config import IntakeConfig
from headshots.errors import ImageError
from headshots.faces import FaceBackend, aligned_crop
from headshots.intake import _measure as m
from headshots.intake._report import IntakeReport, PhotoResult
from headshots.intake._set import find_duplicates, majority_identity, summarise
from headshots.media import decode_image, downscale
from headshots.types import Reason

__all__ = ["check_photo", "check_set", "evaluate_set", "Source", "ProgressFn"]

Source = tuple[str, "bytes | Path"]  # (display name, data or path)
ProgressFn = Callable[[int, int, str], None]  # (done, total, name)

_WORK_SIDE = 1024  # analysis copy; faces in selfies are large, the models' inputs small


def check_photo(
    name: str, source: bytes | Path, backend: FaceBackend, config: IntakeConfig
) -> PhotoResult:
    """Decode and examine one photo on its own; set-level reasons come later."""
    result = PhotoResult(file=name)
    try:
        decoded = decode_image(source, config.decode, name=name)
    except ImageError as exc:
        result.add(exc.reason)
        result.detail = exc.problem
        return result
    image, _ = downscale(decoded.pixels, _WORK_SIDE)
    width, height = decoded.display_size  # as the person sees it, EXIF rotation applied
    to_original = height / image.shape[0]
    analysis = backend.analyse(image, hands=False, mask=True)
    result.metrics.update(width=width, height=height, format=decoded.format)
    if decoded.transparent_fraction > config.transparent_note_fraction:
        result.metrics["transparent_fraction"] = round(decoded.transparent_fraction, 3)
        result.notes.append(f"{decoded.transparent_fraction:.0%} transparent (a cut-out): filled "
                            "with plain grey; the original photo trains better")
    result.thumb = m.thumbnail(image)
    result.background = m.background(image, analysis.person_mask)
    faces = [f for f in analysis.faces if f.score >= config.min_detection_score]
    result.metrics["faces"] = len(faces)
    if not faces:
        result.add(Reason.NO_FACE)
        return result
    face = faces[0]
    if any(f.box.area >= config.second_face_area_ratio * face.box.area for f in faces[1:]):
        result.add(Reason.MULTIPLE_FACES)
    face_px = face.box.height * to_original
    fraction = face.box.height / analysis.height
    result.metrics.update(face_height_px=round(face_px), face_fraction=round(fraction, 3))
    if fraction < config.min_face_fraction or face_px < config.min_face_pixels:
        result.add(Reason.FACE_TOO_SMALL)
    if m.cut_off(analysis, face):
        result.add(Reason.FACE_CUT_OFF)
    # an eye-aligned view of the head finds burst shots that a whole-frame thumbnail misses
    result.head_thumb = m.thumbnail(aligned_crop(image, face, size=64, eye_mouth=0.3,
                                                 eye_y=0.45)[0])
    quality, failed = m.face_quality(image, face, config.quality)
    result.metrics.update(sharpness=round(quality["sharpness"], 3),
                          face_luma=round(quality["face_luma"], 1),
                          clipped_dark=round(quality["clipped_dark"], 3),
                          clipped_bright=round(quality["clipped_bright"], 3))
    for reason, _ in failed:
        result.add(reason)
    eye_ratio, eye_detail = m.eye_evidence(image, face)
    result.metrics.update(eye_brightness=round(eye_ratio, 3), eye_detail=round(eye_detail, 3))
    if eye_ratio < config.eyes_dark_ratio or eye_detail < config.eyes_min_detail:
        result.add(Reason.EYES_COVERED)
    if face.pose is not None:
        p = face.pose
        result.metrics.update(yaw=round(p.yaw, 1), pitch=round(p.pitch, 1), roll=round(p.roll, 1))
        if abs(p.yaw) > config.max_yaw or abs(p.pitch) > config.max_pitch or (
            abs(p.roll) > config.max_roll
        ):
            result.add(Reason.EXTREME_POSE)
    result.metrics.update({f"light_{k}": round(v, 3) for k, v in m.lighting(image, face).items()})
    if Reason.MULTIPLE_FACES not in result.reasons:  # which face is "you" would be a guess
        result.embedding = backend.embed(image, face)
    return result


def check_set(
    sources: Sequence[Source], backend: FaceBackend, config: IntakeConfig | None = None,
    on_progress: ProgressFn | None = None, skipped: Sequence[tuple[str, str]] = (),
) -> IntakeReport:
    """Check every photo, then the set: duplicates, identity majority, variety and advice.
    ``skipped`` names files the caller left out as not photos (name, why): the report and
    its advice say so, so nothing the person uploaded disappears without a word."""
    config = config or IntakeConfig()
    results = []
    for i, (name, source) in enumerate(sources[: config.max_photos]):
        results.append(check_photo(name, source, backend, config))
        if on_progress:
            on_progress(i + 1, len(sources), name)
    return evaluate_set(results, config, skipped=len(sources) - len(results),
                        skipped_files=skipped)


def evaluate_set(results: Sequence[PhotoResult], config: IntakeConfig | None = None,
                 skipped: int = 0, skipped_files: Sequence[tuple[str, str]] = ()
                 ) -> IntakeReport:
    """The set-level part of the check (duplicates, identity majority, variety, advice) over
    per-photo results from ``check_photo``. Works on copies, so results stored as they were
    checked can be evaluated again whenever a photo is added or removed. ``skipped_files``
    names files left out as not photos (name, why), for the report and its advice."""
    config = config or IntakeConfig()
    photos = [copy.deepcopy(r) for r in results]
    clusters = find_duplicates(photos, config)  # first: copies must not vote on identity
    identity = majority_identity(photos, config)
    summary = summarise(photos, identity, clusters, config, skipped=skipped,
                        not_photos=[name for name, _ in skipped_files])
    return IntakeReport(photos=photos, set=summary, skipped=list(skipped_files))


