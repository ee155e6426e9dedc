"""Face analysis: the ``FaceBackend`` protocol, the real mediapipe + dlib backend, a fake for
composing tests, and aligned crops."""

from headshots.faces._align import aligned_crop, alignment_matrix
from headshots.faces._fake import FakeFaceBackend
from headshots.faces._mediapipe import MediapipeDlibBackend, check_image, default_backend
from headshots.faces._protocol import Analysis, Box, Face, FaceBackend, Hand, Pose

__all__ = [
    "Analysis",
    "Box",
    "Face",
    "FaceBackend",
    "FakeFaceBackend",
    "Hand",
    "MediapipeDlibBackend",
    "Pose",
    "aligned_crop",
    "alignment_matrix",
    "check_image",
    "default_backend",
]
