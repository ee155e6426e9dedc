"""Other libraries' output (mediapipe's C++ logging, transformers and diffusers warnings, their
tqdm bars) goes to a log file, not the person's terminal, unless ``--verbose``.

mediapipe logs from C++ straight to file descriptor 2, before and regardless of absl's Python
settings (GLOG_minloglevel does not silence it), so descriptor 2 itself is pointed at the log
while a command runs; ``sys.stderr`` follows it. Our own lines (errors, Ctrl-C) go to the
person's stderr through ``user_stderr()``.

The log: ``$HEADSHOTS_LOG``, else ``$XDG_STATE_HOME/headshots/headshots.log`` (by default
``~/.local/state/headshots/headshots.log``), kept under 2 MB with one older copy. It holds
what the libraries print plus one line per command (its name, the version and the time): no
arguments, so no file or folder names of the person's.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

__all__ = ["log_path", "third_party_output_to_log", "user_stderr"]

_MAX_BYTES = 2_000_000
_streams: dict[Path, TextIO] = {}  # opened once per process: libraries keep handles to them
_user: list[TextIO] = []  # the person's stderr while a command runs (innermost last)


def log_path() -> Path:
    if os.environ.get("HEADSHOTS_LOG"):
        return Path(os.environ["HEADSHOTS_LOG"])
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "headshots" / "headshots.log"


def user_stderr() -> TextIO:
    """Where our own messages go: the terminal, even while descriptor 2 points at the log."""
    return _user[-1] if _user else sys.stderr


def _open_log(path: Path) -> TextIO:
    if path in _streams:
        return _streams[path]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > _MAX_BYTES:
            path.replace(path.with_name(path.name + ".1"))
        stream: TextIO = path.open("a", encoding="utf-8", errors="replace")
    except OSError:  # no writable home: the noise is dropped rather than shown
        stream = open(os.devnull, "w")  # noqa: SIM115 - kept open for the process, like the log
    _streams[path] = stream
    return stream


def _quieter_at_source() -> None:
    """Less to log: settings the libraries read when they are imported (commands import them
    after this runs)."""
    for key, value in (("GLOG_minloglevel", "2"), ("TF_CPP_MIN_LOG_LEVEL", "2"),
                       ("HF_HUB_DISABLE_PROGRESS_BARS", "1")):
        os.environ.setdefault(key, value)


@contextlib.contextmanager
def third_party_output_to_log(command: str, verbose: bool = False) -> Iterator[None]:
    """While the block runs, descriptor 2 and ``sys.stderr`` write to the log."""
    if _user:  # a command called from another (run calls train): already set up
        yield
        return
    if verbose:
        _user.append(sys.stderr)
        try:
            yield
        finally:
            _user.pop()
        return
    _quieter_at_source()
    from headshots import __version__

    log = _open_log(log_path())
    log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} headshots {__version__} {command}\n")
    log.flush()
    sys.stderr.flush()
    try:
        real = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a test runner's in-memory stream
        real = False
    saved = os.dup(2)
    user = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace") \
        if real else sys.stderr
    old_stderr = sys.stderr
    os.dup2(log.fileno(), 2)
    sys.stderr = log
    _user.append(user)
    try:
        yield
    finally:
        _user.pop()
        log.flush()
        sys.stderr = old_stderr
        os.dup2(saved, 2)
        os.close(saved)
        if user is not old_stderr:
            user.close()
