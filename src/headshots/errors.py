"""Every error headshots raises on purpose.

The tree (catch the narrowest you can handle)::

    HeadshotsError                 base; .problem (what is wrong) and .fix (what to do)
    ├── InputError                 the user's input is wrong: CLI exits 2, API answers 4xx
    │   ├── ImageError             one image cannot be used; .reason is a Reason code
    │   ├── PhotoSetError          the set as a whole cannot be used (too few, no majority)
    │   ├── ConfigError            a setting has a bad value (names argument and value)
    │   │   └── StaleCandidatesError  an output folder holds candidates made with other settings
    │   ├── BaseModelError         base model missing, unreadable or of an unsupported kind
    │   ├── NotFoundError          a run, order, file or checkpoint that was named does not exist
    │   ├── ConsentError           no (or an outdated) consent record: nothing is collected
    │   ├── AuthError              no or a bad credential (HTTP 401)
    │   │   └── CsrfError          a form or cookie-signed change without its CSRF token (403)
    │   ├── RateLimited            too many tries in a short time (HTTP 429)
    │   └── ConflictError          not possible in the order's state now, or another process
    │                              is running it (HTTP 409)
    └── RuntimeFailure             something failed while working: nothing the user sent was lost
        ├── BackendError           a face or generative model could not be loaded or run
        ├── ResourceError          out of memory / disk; .fix names settings that use less
        └── LeaseLost              another worker took over a stage this process was running

Messages read ``"<problem> — <fix>"`` so one line tells the whole story.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headshots.types import Reason

__all__ = [
    "HeadshotsError",
    "InputError",
    "ImageError",
    "PhotoSetError",
    "ConfigError",
    "StaleCandidatesError",
    "BaseModelError",
    "NotFoundError",
    "ConsentError",
    "AuthError",
    "CsrfError",
    "RateLimited",
    "ConflictError",
    "RuntimeFailure",
    "BackendError",
    "ResourceError",
    "LeaseLost",
]


class HeadshotsError(Exception):
    """Base of the tree. ``problem`` says what is wrong, ``fix`` what to do about it."""

    exit_code = 1
    http_status = 500

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} — {fix}" if fix else problem)

    def to_dict(self) -> dict[str, str]:
        return {"error": type(self).__name__, "problem": self.problem, "fix": self.fix}


class InputError(HeadshotsError):
    exit_code = 2
    http_status = 422


class ImageError(InputError):
    """One image is unusable; ``reason`` is the product's reason code for it."""

    def __init__(self, reason: Reason, problem: str, fix: str = "") -> None:
        self.reason = reason
        super().__init__(problem, fix or reason.fix)

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "reason": self.reason.value}


class PhotoSetError(InputError):
    pass


class ConfigError(InputError):
    pass


class StaleCandidatesError(ConfigError):
    """Candidates already in the folder were made with another model, LoRA or settings;
    mixing them in would judge and deliver images the order did not ask for."""

    http_status = 409


class BaseModelError(InputError):
    pass


class NotFoundError(InputError):
    http_status = 404


class ConsentError(InputError):
    pass


class AuthError(InputError):
    http_status = 401


class CsrfError(AuthError):
    http_status = 403


class RateLimited(InputError):
    http_status = 429

    def __init__(self, problem: str, fix: str = "", retry_after: int = 60) -> None:
        self.retry_after = retry_after
        super().__init__(problem, fix)


class ConflictError(InputError):
    http_status = 409


class RuntimeFailure(HeadshotsError):
    pass


class BackendError(RuntimeFailure):
    pass


class ResourceError(RuntimeFailure):
    http_status = 507


class LeaseLost(RuntimeFailure):
    """Raised inside a stage whose lease another worker took (its heartbeat had stopped)."""
