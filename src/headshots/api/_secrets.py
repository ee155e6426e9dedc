"""The service's secret: signs CSRF tokens and derives each webhook's signing secret.

Development: a random key file (mode 0600) in the data directory, made on first start.
Production (``HEADSHOTS_ENVIRONMENT=production``) refuses to start without a configured secret
of at least 32 characters, and without a configured master key (``load_master_key``)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from headshots.config import Settings
from headshots.errors import ConfigError

__all__ = ["check_production", "load_session_secret"]

_KEY_FILE = "session.key"
_MIN_LENGTH = 32


def load_session_secret(settings: Settings) -> bytes:
    configured = settings.service.session_secret
    if configured is not None:
        value = configured.get_secret_value()
        if len(value) < _MIN_LENGTH:
            raise ConfigError(f"HEADSHOTS_SERVICE__SESSION_SECRET is {len(value)} characters; "
                              f"at least {_MIN_LENGTH} are needed",
                              "set it to a long random value (openssl rand -base64 48)")
        return value.encode()
    if settings.environment == "production":
        raise ConfigError("no session secret is configured in production",
                          "set HEADSHOTS_SERVICE__SESSION_SECRET to a long random value "
                          "(openssl rand -base64 48)")
    path = Path(settings.data_dir) / _KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as f:
            f.write(base64.urlsafe_b64encode(os.urandom(48)))
    return path.read_bytes().strip()


def check_production(settings: Settings) -> None:
    """Everything production needs that a development default would otherwise fill in."""
    if settings.environment != "production":
        return
    if settings.master_key is None:
        raise ConfigError("no master key is configured in production",
                          "set HEADSHOTS_MASTER_KEY to base64 of 32 random bytes "
                          "(openssl rand -base64 32) and keep it outside the data directory")
    load_session_secret(settings)
    url = settings.service.public_url or ""
    if not url.startswith("https://"):
        raise ConfigError(f"the public URL {url or '(unset)'} is not https in production",
                          "set HEADSHOTS_SERVICE__PUBLIC_URL to the https:// address people "
                          "use (cookies are sent only over https there)")
