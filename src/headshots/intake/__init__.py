"""Selfie intake: per-photo checks, set variety and advice, training crops, contact sheet."""

from headshots.intake._check import ProgressFn, Source, check_photo, check_set, evaluate_set
from headshots.intake._crops import prepare_crops
from headshots.intake._report import IntakeReport, PhotoResult, SetSummary
from headshots.intake._sheet import render_sheet

__all__ = [
    "IntakeReport",
    "PhotoResult",
    "ProgressFn",
    "SetSummary",
    "Source",
    "check_photo",
    "check_set",
    "evaluate_set",
    "prepare_crops",
    "render_sheet",
]
