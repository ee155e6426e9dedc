"""Likeness of generated portraits to the person, and picking the checkpoint that has most."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from headshots.faces import FaceBackend

__all__ = ["LikenessScore", "LikenessScorer", "FaceLikenessScorer", "choose_checkpoint"]


@dataclass(frozen=True)
class LikenessScore:
    likeness: float | None  # 0..1 (1 - mean identity distance), None when no face was found
    faces_found: int
    images: int


class LikenessScorer(Protocol):
    def score(self, images: Sequence[np.ndarray]) -> LikenessScore: ...


class FaceLikenessScorer:
    """Scores images against the person's own photos with the face backend's identity
    embedding: likeness = 1 - mean distance to the reference embeddings."""

    def __init__(self, backend: FaceBackend, references: Sequence[np.ndarray]) -> None:
        self.backend = backend
        embeddings = []
        for image in references:
            faces = backend.analyse(image, hands=False, mask=False).faces
            if faces:
                embeddings.append(backend.embed(image, faces[0]))
        self.references = np.stack(embeddings) if embeddings else np.zeros((0, 128), np.float32)

    def distance(self, image: np.ndarray) -> float | None:
        if not len(self.references):
            return None
        faces = self.backend.analyse(image, hands=False, mask=False).faces
        if not faces:
            return None
        vec = self.backend.embed(image, faces[0])
        return float(np.linalg.norm(self.references - vec, axis=1).mean())

    def score(self, images: Sequence[np.ndarray]) -> LikenessScore:
        dists = [d for d in (self.distance(im) for im in images) if d is not None]
        value = float(np.clip(1.0 - np.mean(dists), 0.0, 1.0)) if dists else None
        return LikenessScore(likeness=value, faces_found=len(dists), images=len(images))


def choose_checkpoint(likeness: Sequence[tuple[int, float | None]]) -> tuple[int, str]:
    """(step, why): the checkpoint with the best likeness, later ones winning ties; the last
    one when no checkpoint's portraits showed a face."""
    if not likeness:
        raise ValueError("no checkpoints to choose from")
    scored = [(step, value) for step, value in likeness if value is not None]
    if not scored:
        step = max(s for s, _ in likeness)
        return step, (
            "no face was found in any checkpoint's validation portraits, so likeness could not "
            "be measured; the last checkpoint is kept"
        )
    best = max(scored, key=lambda sv: (sv[1], sv[0]))
    return best[0], f"highest likeness {best[1]:.3f} of {len(scored)} scored checkpoints"
