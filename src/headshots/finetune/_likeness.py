"""Likeness of generated portraits to the person, and picking the checkpoint that has most."""

from __future__ import annotations

import hashlib
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
    """Scores generated ``images`` against ``references`` (the person's photos the trainer
    chose: held-out selfies when there are enough, else the training crops); None: the
    scorer's own default references."""

    def score(self, images: Sequence[np.ndarray],
              references: Sequence[np.ndarray] | None = None) -> LikenessScore: ...


class FaceLikenessScorer:
    """Scores images against the person's own photos with the face backend's identity
    embedding: likeness = 1 - mean distance to the reference embeddings."""

    def __init__(self, backend: FaceBackend, references: Sequence[np.ndarray] = ()) -> None:
        self.backend = backend
        self._cache: dict[str, np.ndarray | None] = {}
        self.references = self._embed_all(references)

    def _embed(self, image: np.ndarray) -> np.ndarray | None:
        key = hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest() + str(image.shape)
        if key not in self._cache:  # references are embedded once, not at every checkpoint
            faces = self.backend.analyse(image, hands=False, mask=False).faces
            self._cache[key] = self.backend.embed(image, faces[0]) if faces else None
        return self._cache[key]

    def _embed_all(self, images: Sequence[np.ndarray]) -> np.ndarray:
        found = [e for e in (self._embed(im) for im in images) if e is not None]
        return np.stack(found) if found else np.zeros((0, 128), np.float32)

    def distance(self, image: np.ndarray, references: np.ndarray | None = None) -> float | None:
        refs = self.references if references is None else references
        if not len(refs):
            return None
        faces = self.backend.analyse(image, hands=False, mask=False).faces
        if not faces:
            return None
        vec = self.backend.embed(image, faces[0])
        return float(np.linalg.norm(refs - vec, axis=1).mean())

    def score(self, images: Sequence[np.ndarray],
              references: Sequence[np.ndarray] | None = None) -> LikenessScore:
        refs = None if references is None else self._embed_all(references)
        dists = [d for d in (self.distance(im, refs) for im in images) if d is not None]
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
