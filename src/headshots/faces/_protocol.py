"""The face-analysis seam: what every stage may ask of a face backend.

Images are ``numpy.ndarray`` of shape (H, W, 3), dtype uint8, RGB. All coordinates are in
pixels of the image that was passed in (x right, y down), floats; boxes may extend past the
frame (that is how a cut-off face shows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Box", "Pose", "Face", "Hand", "Analysis", "FaceBackend"]


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    def inside(self, width: int, height: int, margin: float = 0.0) -> bool:
        """True when the box lies within the frame (shrunk by ``margin`` pixels)."""
        return (
            self.x0 >= margin
            and self.y0 >= margin
            and self.x1 <= width - margin
            and self.y1 <= height - margin
        )


@dataclass(frozen=True)
class Pose:
    """Head pose in degrees. yaw > 0: the person turns to *their* left (face points to image
    right); pitch > 0: chin up; roll > 0: head tilts clockwise in the image."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class Face:
    box: Box  # detector box, may extend past the frame
    score: float  # detector confidence 0..1
    # 5 points: right eye, left eye (the person's), nose tip, right and left mouth corner. (5, 2)
    keypoints: np.ndarray
    # 478 x (x, y, z) face mesh incl. iris points 468..477, or None when the mesh did not run
    mesh: np.ndarray | None = None
    pose: Pose | None = None


@dataclass(frozen=True)
class Hand:
    landmarks: np.ndarray  # (21, 3) in pixels (z relative, same scale as x)
    handedness: str  # "Left" / "Right" as the model reports it
    score: float
    box: Box


@dataclass(frozen=True)
class Analysis:
    width: int
    height: int
    faces: tuple[Face, ...] = ()  # largest first
    hands: tuple[Hand, ...] = ()
    person_mask: np.ndarray | None = field(default=None, repr=False)  # (H, W) float32 0..1


@runtime_checkable
class FaceBackend(Protocol):
    """Analyse faces, hands and the person; embed identities. Load models once, reuse."""

    def analyse(self, image: np.ndarray, *, hands: bool = True, mask: bool = True) -> Analysis:
        """Detect faces (largest first, each with mesh + pose where found), hands and a person
        mask (when asked) in an RGB uint8 image."""
        ...

    def embed(self, image: np.ndarray, face: Face) -> np.ndarray:
        """A unit-free 128-D identity vector for ``face`` in ``image``; compare with
        Euclidean distance (same person < ~0.6)."""
        ...
