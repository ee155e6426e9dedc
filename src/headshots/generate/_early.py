"""The cheap face check run on a part-way prediction: only detection, no mesh, no embedding."""

from __future__ import annotations

import numpy as np

from headshots.faces import FaceBackend
from headshots.generate._diffusers import EarlyCheck
from headshots.types import Reason

__all__ = ["face_early_check"]


def face_early_check(
    backend: FaceBackend, *, min_face_fraction: float = 0.12, second_face_ratio: float = 0.25
) -> EarlyCheck:
    """Reject a preview with no face, several large faces, a tiny face or a face off the edge.
    Lenient on purpose: a preview is blurry, and a wrong rejection costs a good image."""

    def check(image: np.ndarray) -> Reason | None:
        faces = backend.analyse(image, hands=False, mask=False).faces
        if not faces:
            return Reason.NO_FACE
        face = faces[0]
        if any(f.box.area >= second_face_ratio * face.box.area for f in faces[1:]):
            return Reason.MULTIPLE_FACES
        if face.box.height < min_face_fraction * image.shape[0]:
            return Reason.FACE_TOO_SMALL
        if not face.box.inside(image.shape[1], image.shape[0], margin=-0.15 * face.box.height):
            return Reason.FACE_CUT_OFF
        return None

    return check
