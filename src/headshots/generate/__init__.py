"""Generate: the style catalog, the diffusers generator (with early rejection), a replay
generator over existing images, and streaming candidates to disk."""

from headshots.generate._diffusers import DiffusersGenerator, EarlyCheck
from headshots.generate._early import face_early_check
from headshots.generate._replay import ReplayGenerator
from headshots.generate._requests import Generated, GenerationRequest, Generator, plan_requests
from headshots.generate._run import candidate_from_record, generate_candidates, read_index
from headshots.generate._styles import (
    Identity,
    Style,
    builtin_styles,
    custom_style,
    load_styles,
    pick_styles,
)

__all__ = [
    "DiffusersGenerator",
    "EarlyCheck",
    "Generated",
    "GenerationRequest",
    "Generator",
    "Identity",
    "ReplayGenerator",
    "Style",
    "builtin_styles",
    "candidate_from_record",
    "custom_style",
    "face_early_check",
    "generate_candidates",
    "load_styles",
    "pick_styles",
    "plan_requests",
    "read_index",
]
