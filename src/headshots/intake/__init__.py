"""Selfie intake: per-photo checks, set variety and advice, training crops, contact sheet."""

from headshots.intake._check import ProgressFn, Source, check_photo, check_set, evaluate_set
from headshots.intake._crops import (
    CROP_MANIFEST,
    CropInfo,
    PreparedCrops,
    prepare_crops,
    read_crop_manifest,
)
from headshots.intake._report import IntakeReport, PhotoResult, SetSummary
from headshots.intake._sheet import render_sheet

__all__ = [
    "CROP_MANIFEST",
    "CropInfo",
    "IntakeReport",
    "PhotoResult",
    "PreparedCrops",
    "ProgressFn",
    "SetSummary",
    "Source",
    "check_photo",
    "check_set",
    "evaluate_set",
    "prepare_crops",
    "read_crop_manifest",
    "render_sheet",
]
