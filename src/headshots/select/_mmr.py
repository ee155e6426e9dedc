"""Top-K with diversity: maximal marginal relevance over identity-free features.

Each accepted candidate is described by its 24x24 grey layout thumbnail, its background colour,
its style and its head pose (never its identity embedding: all of them are the same person), and
optionally its eye-aligned head view, which keeps near-twins (one seed family, a mirror image)
from sitting side by side.
MMR picks, one at a time, the candidate with the best ``lam * score - (1 - lam) * max similarity
to those already picked``, so the gallery varies while the best images still lead it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SelectConfig", "Item", "select_diverse", "effective_k"]


class SelectConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int = Field(100, ge=1, description="how many to deliver from a full run of 1000")
    full_run: int = Field(1000, ge=1, description="candidates in a full run (K scales below it)")
    min_k: int = Field(4, ge=1, description="smaller runs still deliver at least this many")
    lam: float = Field(0.6, ge=0, le=1, description="MMR trade-off: 1 = score only")
    min_distance: float = Field(
        0.12, ge=0, description="never pick two whose layout distance is below this"
    )
    min_head_distance: float = Field(
        0.35, ge=0,
        description="never pick two whose head views (as they are or one mirrored) are closer: "
        "near-twins (the same shot <= 0.06 either way; other photos of one person >= 0.59)",
    )


@dataclass(frozen=True)
class Item:
    key: str
    score: float
    thumb: np.ndarray  # unit-norm layout descriptor
    colour: np.ndarray  # background Lab colour
    style: str
    pose: np.ndarray  # yaw, pitch in degrees
    head: np.ndarray | None = None  # unit-norm eye-aligned head view (2-D), for near-twins


def effective_k(config: SelectConfig, candidates: int, accepted: int) -> int:
    """K for this run: K of ``full_run``, scaled down for smaller runs, at least ``min_k``,
    never more than were accepted."""
    scaled = math.ceil(config.k * min(candidates, config.full_run) / config.full_run)
    return min(accepted, max(config.min_k, min(config.k, scaled)))


def _similarity(a: Item, b: Item) -> float:
    layout = float(np.dot(a.thumb.ravel(), b.thumb.ravel()))  # 1 = same layout
    colour = math.exp(-float(np.linalg.norm(a.colour - b.colour)) / 25.0)
    style = 1.0 if a.style == b.style else 0.0
    pose = math.exp(-float(np.linalg.norm(a.pose - b.pose)) / 15.0)
    return 0.45 * max(layout, 0.0) + 0.2 * colour + 0.2 * style + 0.15 * pose


def _head_twins(a: Item, b: Item, limit: float) -> bool:
    """Head views closer than ``limit``, as they are or one mirrored (the view is centred on
    the eyes, so flipping it is the mirror image's view)."""
    if a.head is None or b.head is None:
        return False
    plain = float(np.dot(a.head.ravel(), b.head.ravel()))
    mirrored = float(np.dot(a.head[:, ::-1].ravel(), b.head.ravel())) if a.head.ndim == 2 else -1
    return 1.0 - max(plain, mirrored) < limit


def select_diverse(items: Sequence[Item], k: int, config: SelectConfig | None = None) -> list[str]:
    """Keys of up to ``k`` items, best first in MMR order."""
    config = config or SelectConfig()
    pool = sorted(items, key=lambda i: -i.score)
    if not pool:
        return []
    scores = np.array([i.score for i in pool])
    span = float(scores.max() - scores.min()) or 1.0
    norm = (scores - scores.min()) / span
    chosen: list[int] = []
    max_sim = np.zeros(len(pool))
    while len(chosen) < min(k, len(pool)):
        value = config.lam * norm - (1 - config.lam) * max_sim
        for c in chosen:
            value[c] = -np.inf
        best = int(np.argmax(value))
        if not np.isfinite(value[best]):
            break
        chosen.append(best)
        for j, item in enumerate(pool):
            if j in chosen:
                continue
            max_sim[j] = max(max_sim[j], _similarity(pool[best], item))
            if 1 - float(np.dot(pool[best].thumb.ravel(), item.thumb.ravel())) < \
                    config.min_distance or _head_twins(pool[best], item, config.min_head_distance):
                max_sim[j] = np.inf  # a near-twin of a chosen one is never chosen
    return [pool[c].key for c in chosen]
