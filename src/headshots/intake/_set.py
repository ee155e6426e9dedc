"""Set-level checks: who the set is of (majority identity), near-duplicates, variety, advice."""

from __future__ import annotations

from typing import Any

import numpy as np

from headshots.config import IntakeConfig
from headshots.intake._measure import thumb_distance
from headshots.intake._report import PhotoResult, SetSummary
from headshots.types import Reason

__all__ = ["majority_identity", "find_duplicates", "summarise"]

_TURN = 12.0  # degrees of yaw that count as a turned (three-quarter) pose


def majority_identity(results: list[PhotoResult], config: IntakeConfig) -> dict[str, Any]:
    """Flag photos whose identity disagrees with the set's majority.

    The medoid (the photo close to most others) anchors the majority, so one odd photo cannot
    drag a mean; a majority needs more than half of the photos that show one face."""
    embedded = [r for r in results
                if r.embedding is not None and Reason.DUPLICATE not in r.reasons]
    if len(embedded) < 2:
        return {"majority": None, "photos_compared": len(embedded)}
    vecs = np.stack([r.embedding for r in embedded if r.embedding is not None])
    dist = np.linalg.norm(vecs[:, None, :] - vecs[None, :, :], axis=2)
    close = (dist <= config.identity_threshold).sum(axis=1)
    medoid = int(np.lexsort((dist.mean(axis=1), -close))[0])
    members = dist[medoid] <= config.identity_threshold
    info: dict[str, Any] = {
        "photos_compared": len(embedded),
        "majority_size": int(members.sum()),
        "threshold": config.identity_threshold,
        "reference": embedded[medoid].file,
    }
    if members.sum() * 2 <= len(embedded):
        info["majority"] = False
        return info
    info["majority"] = True
    for r, member, d in zip(embedded, members, dist[medoid], strict=True):
        r.metrics["identity_distance"] = round(float(d), 3)
        if not member:
            r.add(Reason.DIFFERENT_PERSON)
    return info


def find_duplicates(results: list[PhotoResult], config: IntakeConfig) -> list[list[str]]:
    """Group near-identical shots; keep the best of each group (sharpest, then largest face,
    then fewest other problems) and flag the rest as ``duplicate``."""
    items = [r for r in results if r.thumb is not None]
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if _near(items[i], items[j], config):
                parent[root(j)] = root(i)
    groups: dict[int, list[PhotoResult]] = {}
    for i, r in enumerate(items):
        groups.setdefault(root(i), []).append(r)
    clusters = []
    for group in groups.values():
        if len(group) < 2:
            continue
        best = max(group, key=lambda r: (
            -len(r.reasons), r.metrics.get("sharpness", 0.0), r.metrics.get("face_height_px", 0)
        ))
        for r in group:
            if r is not best:
                r.add(Reason.DUPLICATE)
                r.metrics["duplicate_of"] = best.file
        clusters.append([best.file] + [r.file for r in group if r is not best])
    return clusters


def _near(a: PhotoResult, b: PhotoResult, config: IntakeConfig) -> bool:
    assert a.thumb is not None and b.thumb is not None
    if thumb_distance(a.thumb, b.thumb) < config.duplicate_distance:
        return True
    return (a.head_thumb is not None and b.head_thumb is not None
            and thumb_distance(a.head_thumb, b.head_thumb) < config.duplicate_head_distance)


def summarise(
    results: list[PhotoResult], identity: dict[str, Any], clusters: list[list[str]],
    config: IntakeConfig, skipped: int = 0, not_photos: list[str] | None = None,
) -> SetSummary:
    accepted = [r for r in results if r.accepted]
    variety = _variety(accepted, clusters)
    advice = _advice(results, accepted, variety, identity, config, skipped)
    cut_outs = sum(1 for r in results if "transparent_fraction" in r.metrics)
    if cut_outs:
        advice.append(f"{_photos(cut_outs)} {'is a cut-out' if cut_outs == 1 else 'are cut-outs'}"
                      " with a transparent background: the original photos train better.")
    if not_photos:
        advice.append(f"Skipped as not photos: {', '.join(not_photos)}.")
    ready = len(accepted) >= config.min_accepted and identity.get("majority") is not False
    return SetSummary(
        accepted=len(accepted), ready=ready, variety=variety, advice=advice, identity=identity,
        min_accepted=config.min_accepted,
    )


def _spread(values: list[float]) -> float:
    return float(np.ptp(values)) if len(values) > 1 else 0.0


def _variety(accepted: list[PhotoResult], clusters: list[list[str]]) -> dict[str, Any]:
    yaws = [r.metrics["yaw"] for r in accepted if "yaw" in r.metrics]
    pitches = [r.metrics["pitch"] for r in accepted if "pitch" in r.metrics]
    lumas = [r.metrics["light_luma"] for r in accepted if "light_luma" in r.metrics]
    balance = [r.metrics["light_balance"] for r in accepted if "light_balance" in r.metrics]
    warmth = [r.metrics["light_warmth"] for r in accepted if "light_warmth" in r.metrics]
    bgs = [r.background for r in accepted if r.background is not None]
    bg_spread = 0.0
    if len(bgs) > 1:
        colours = np.stack(bgs)[:, :3]
        d = np.linalg.norm(colours[:, None] - colours[None], axis=2)
        bg_spread = float(d[np.triu_indices(len(bgs), 1)].mean())
    return {
        "pose": {
            # yaw > 0: the face points to image right, i.e. the person turned to their left
            "turned_left": sum(y > _TURN for y in yaws),
            "frontal": sum(abs(y) <= _TURN for y in yaws),
            "turned_right": sum(y < -_TURN for y in yaws),
            "yaw_range_deg": round(_spread(yaws), 1),
            "pitch_range_deg": round(_spread(pitches), 1),
        },
        "lighting": {
            "brightness_range": round(_spread(lumas), 1),
            "side_light_range": round(_spread(balance), 3),
            "warmth_range": round(_spread(warmth), 3),
        },
        "background": {"mean_colour_difference": round(bg_spread, 1)},
        "duplicate_clusters": clusters,
    }


def _advice(
    results: list[PhotoResult], accepted: list[PhotoResult], variety: dict[str, Any],
    identity: dict[str, Any], config: IntakeConfig, skipped: int,
) -> list[str]:
    advice: list[str] = []
    if identity.get("majority") is False:
        advice.append(
            "The photos do not agree on who is in them (no person appears in more than half): "
            "use photos of one person only."
        )
    missing = config.min_accepted - len(accepted)
    if missing > 0:
        advice.append(
            f"Add {missing} more usable photo{'s' if missing > 1 else ''}: {len(accepted)} "
            f"accepted, {config.min_accepted} needed."
        )
    if skipped:
        advice.append(f"Only the first {config.max_photos} photos were checked; {skipped} ignored.")
    counts: dict[Reason, int] = {}
    for r in results:
        for reason in r.reasons:
            counts[reason] = counts.get(reason, 0) + 1
    for reason, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        if reason is Reason.DUPLICATE:
            continue
        advice.append(f"{_photos(n)}: {reason.explanation} — {reason.fix}.")
    if len(accepted) >= 2:
        pose = variety["pose"]
        if pose["turned_left"] == 0 and pose["turned_right"] == 0:
            advice.append(
                "All photos face the camera: add two at three-quarter view, one turned left and "
                "one turned right."
            )
        elif pose["turned_left"] == 0 or pose["turned_right"] == 0:
            side = "right" if pose["turned_right"] == 0 else "left"
            advice.append(f"No photo shows you turned to your {side}: add one at ¾ {side}.")
        light = variety["lighting"]
        if light["brightness_range"] < 25 and light["side_light_range"] < 0.08:
            advice.append(
                "All photos are under much the same light: add one in daylight by a window and "
                "one outdoors."
            )
        if variety["background"]["mean_colour_difference"] < 12:
            advice.append(
                "All photos have much the same background: add some taken in other places."
            )
    if variety["duplicate_clusters"]:
        n = sum(len(c) - 1 for c in variety["duplicate_clusters"])
        it, verb = ("it", "adds") if n == 1 else ("them", "add")
        advice.append(
            f"{_photos(n, 'near-duplicate photo')} {verb} nothing: replace {it} with different "
            "poses, expressions or places."
        )
    return advice


def _photos(n: int, noun: str = "photo") -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
