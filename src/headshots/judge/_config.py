"""Judge thresholds: every one documented, most measured on the real test photos."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from headshots.config import FaceQualityConfig

__all__ = ["JudgeConfig"]


class JudgeConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    work_side: int = Field(512, ge=128, description="candidates are judged at this long side")
    min_detection_score: float = Field(0.5, gt=0, lt=1, description="weaker detections ignored")
    min_face_fraction: float = Field(
        0.12, gt=0, lt=1, description="face height / image height below this: face_too_small"
    )
    second_face_area_ratio: float = Field(
        0.25, gt=0, le=1, description="another face this large vs the main one: multiple_faces"
    )
    quality: FaceQualityConfig = FaceQualityConfig()
    max_gaze_asymmetry: float = Field(
        0.25, gt=0, description="|left - right iris position along the eye| (real: 0.03-0.09)"
    )
    max_iris_size_ratio: float = Field(
        1.35, gt=1, description="larger / smaller iris radius above this: eyes_off (real ~1.03)"
    )
    eye_face_ratio: tuple[float, float] = Field(
        (0.25, 0.5), description="interocular / face height outside: distorted_face (real .33-.40)"
    )
    nose_face_ratio: tuple[float, float] = Field(
        (0.14, 0.36), description="nose length / face height outside: distorted (real .21-.28)"
    )
    mouth_eye_ratio: tuple[float, float] = Field(
        (0.6, 1.6), description="mouth width / interocular outside: distorted (real 0.89-1.18)"
    )
    hands_allowed_in_headshots: bool = Field(
        False, description="False: any hand in a head-and-shoulders style is bad_hands"
    )
    likeness_margin: float = Field(
        0.15, ge=0, description="threshold = the person's worst leave-one-out distance + this"
    )
    likeness_bounds: tuple[float, float] = Field(
        (0.5, 0.65), description="the per-person threshold is clamped to this range"
    )
    default_threshold: float = Field(0.6, gt=0, description="with fewer than 2 references")
    duplicate_distance: float = Field(0.12, ge=0, description="thumbnail distance: duplicate")
    duplicate_head_distance: float = Field(
        0.2, ge=0, description="eye-aligned head views closer than this, as they are or one "
        "mirrored: duplicate (the same shot shifted, zoomed or re-lit <= 0.02, mirrored <= 0.06; "
        "other photos >= 0.59 either way)"
    )
    likeness_weight: float = Field(0.6, ge=0, le=1, description="rank = w*likeness + (1-w)*quality")
