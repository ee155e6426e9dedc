"""headshots: turn 8-20 selfies into studio-quality, honestly labelled AI headshots."""

from headshots.errors import (
    BackendError,
    BaseModelError,
    ConfigError,
    HeadshotsError,
    ImageError,
    InputError,
    NotFoundError,
    PhotoSetError,
    ResourceError,
    RuntimeFailure,
    StaleCandidatesError,
)
from headshots.types import Reason, Verdict

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "BackendError",
    "BaseModelError",
    "ConfigError",
    "HeadshotsError",
    "ImageError",
    "InputError",
    "NotFoundError",
    "PhotoSetError",
    "Reason",
    "ResourceError",
    "RuntimeFailure",
    "StaleCandidatesError",
    "Verdict",
]
