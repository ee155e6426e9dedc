"""Generate: the style catalog, the diffusers generator (with early rejection, half precision
on a GPU and the model's safety checker), a replay generator over existing images, and
streaming candidates to disk with a fingerprint that keeps stale candidates out."""

from headshots.generate._config import GenerateConfig, pick_device, resolve_precision
from headshots.generate._diffusers import DiffusersGenerator, EarlyCheck
from headshots.generate._early import face_early_check
from headshots.generate._identity import base_model_identity, diffusers_fingerprint, find_lora
from headshots.generate._replay import ReplayGenerator
from headshots.generate._requests import Generated, GenerationRequest, Generator, plan_requests
from headshots.generate._run import (
    candidate_from_record,
    check_candidates,
    generate_candidates,
    index_candidates,
    read_index,
    stale_candidates,
)
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
    "GenerateConfig",
    "Generated",
    "GenerationRequest",
    "Generator",
    "Identity",
    "ReplayGenerator",
    "Style",
    "base_model_identity",
    "builtin_styles",
    "candidate_from_record",
    "index_candidates",
    "check_candidates",
    "custom_style",
    "diffusers_fingerprint",
    "face_early_check",
    "find_lora",
    "generate_candidates",
    "load_styles",
    "pick_device",
    "pick_styles",
    "plan_requests",
    "read_index",
    "resolve_precision",
    "stale_candidates",
]
