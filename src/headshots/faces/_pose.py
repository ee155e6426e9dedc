"""Head pose and 5-point keypoints from the 478-point mediapipe face mesh."""

from __future__ import annotations

import math

import numpy as np

from headshots.faces._protocol import Pose

__all__ = ["keypoints_from_mesh", "pose_from_mesh", "RIGHT_EYE", "LEFT_EYE"]

# Mesh indices, named from the person's point of view (their right eye is on image left).
RIGHT_EYE = (33, 133)  # outer, inner corner
LEFT_EYE = (263, 362)
NOSE_TIP = 1
MOUTH_RIGHT, MOUTH_LEFT = 61, 291
FOREHEAD, CHIN = 10, 152


def keypoints_from_mesh(mesh: np.ndarray) -> np.ndarray:
    """(5, 2): right eye, left eye, nose tip, right and left mouth corner (person's sides)."""
    pts = mesh[:, :2]
    return np.stack(
        [
            pts[list(RIGHT_EYE)].mean(axis=0),
            pts[list(LEFT_EYE)].mean(axis=0),
            pts[NOSE_TIP],
            pts[MOUTH_RIGHT],
            pts[MOUTH_LEFT],
        ]
    ).astype(np.float32)


def pose_from_mesh(mesh: np.ndarray) -> Pose:
    """Yaw/pitch/roll in degrees from the mesh's own 3-D points (z has the scale of x).

    The head's x axis runs from the right eye's outer corner to the left one's, its up axis from
    chin to forehead; angles are read off that frame. yaw > 0: face points to image right;
    pitch > 0: chin up; roll > 0: clockwise in the image.
    """
    p = mesh.astype(np.float64)
    x_axis = p[LEFT_EYE[0]] - p[RIGHT_EYE[0]]
    up = p[FOREHEAD] - p[CHIN]
    yaw = math.degrees(math.atan2(x_axis[2], math.hypot(x_axis[0], x_axis[1])))
    roll = math.degrees(math.atan2(x_axis[1], x_axis[0]))
    # Remove roll before reading pitch, so a tilted head does not read as nodding.
    c, s = math.cos(math.radians(-roll)), math.sin(math.radians(-roll))
    up_y = s * up[0] + c * up[1]
    # A straight face's forehead sits ~0.2 face-heights behind its chin in mediapipe's depth;
    # the offset keeps a level gaze near 0 degrees.
    pitch = math.degrees(math.atan2(up[2], -up_y)) - _PITCH_OFFSET
    return Pose(yaw=float(yaw), pitch=float(pitch), roll=float(roll))


_PITCH_OFFSET = 0.0
