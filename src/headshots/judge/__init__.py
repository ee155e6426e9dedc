"""Judge: drop failed candidates with a reason each; likeness calibrated per person."""

from headshots.judge._config import JudgeConfig
from headshots.judge._geometry import face_proportions, gaze_and_iris, hand_problems
from headshots.judge._judge import (
    JudgeResult,
    LikenessCalibration,
    calibrate,
    judge_candidates,
    judge_one,
)

__all__ = [
    "JudgeConfig",
    "JudgeResult",
    "LikenessCalibration",
    "calibrate",
    "face_proportions",
    "gaze_and_iris",
    "hand_problems",
    "judge_candidates",
    "judge_one",
]
