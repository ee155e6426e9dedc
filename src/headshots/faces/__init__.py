"""Face analysis: the ``FaceBackend`` protocol, the real mediapipe + dlib backend and a fake."""

from headshots.faces._protocol import Analysis, Box, Face, FaceBackend, Hand, Pose

__all__ = ["Analysis", "Box", "Face", "FaceBackend", "Hand", "Pose"]
