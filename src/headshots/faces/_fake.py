"""An in-memory ``FaceBackend`` for composing tests (pipelines, CLI, jobs).

It answers from a script keyed by the image's content; the real ``MediapipeDlibBackend`` has
its own tests on real photos (tests/faces/test_mediapipe.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from headshots.faces._protocol import Analysis, Face

__all__ = ["FakeFaceBackend", "image_key"]


def image_key(image: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()


@dataclass
class FakeFaceBackend:
    """``script(image, analysis, embeddings)`` then ``analyse``/``embed`` return them.
    Unscripted images have no face. ``calls`` counts analyse calls."""

    _analyses: dict[str, Analysis] = field(default_factory=dict)
    _embeddings: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    calls: int = 0

    def script(
        self, image: np.ndarray, analysis: Analysis, embeddings: list[np.ndarray] | None = None
    ) -> None:
        key = image_key(image)
        self._analyses[key] = analysis
        for i, vec in enumerate(embeddings or []):
            self._embeddings[(key, i)] = np.asarray(vec, dtype=np.float32)

    def analyse(self, image: np.ndarray, *, hands: bool = True, mask: bool = True) -> Analysis:
        self.calls += 1
        h, w = image.shape[:2]
        found = self._analyses.get(image_key(image), Analysis(width=w, height=h))
        return Analysis(
            width=found.width, height=found.height, faces=found.faces,
            hands=found.hands if hands else (),
            person_mask=found.person_mask if mask else None,
        )

    def embed(self, image: np.ndarray, face: Face) -> np.ndarray:
        key = image_key(image)
        faces = self._analyses[key].faces if key in self._analyses else ()
        index = next((i for i, f in enumerate(faces) if f is face), 0)
        return self._embeddings.get((key, index), np.zeros(128, dtype=np.float32))
