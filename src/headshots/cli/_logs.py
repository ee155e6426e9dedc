"""Other libraries' output (mediapipe's C++ logging, transformers and diffusers warnings, their
tqdm bars) goes to a log file, not the person's terminal, unless ``--verbose``.

mediapipe logs from C++ straight to file descriptor 2, whatever absl's Python settings say
(GLOG_minloglevel does not silence it), so descriptor 2 itself is pointed into a pipe while a
command runs; ``sys.stderr`` follows it. A thread copies the pipe into the log line by line,
keeping only the final state of a progress bar and blanking the command's own private values:
the paths it was given (and their file names) and the words of ``--prompt``, ``--class-word`` and
``--token``, which the libraries echo (CLIP's "input was truncated" warning quotes the prompt).
Our own lines (errors, Ctrl-C) go to the person's stderr through ``user_stderr()``.

The log: ``$HEADSHOTS_LOG``, else ``$XDG_STATE_HOME/headshots/headshots.log`` (by default
``~/.local/state/headshots/headshots.log``), kept under 2 MB with one older copy, with one line
per command: its name, the version and the time, never its arguments.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

__all__ = ["log_path", "private_values", "third_party_output_to_log", "user_stderr"]

_MAX_BYTES = 2_000_000
_WORD_OPTIONS = ("prompt", "class_word", "token")  # free text of the person's own
_user: list[TextIO] = []  # the person's stderr while a command runs (innermost last)


def log_path() -> Path:
    if os.environ.get("HEADSHOTS_LOG"):
        return Path(os.environ["HEADSHOTS_LOG"])
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "headshots" / "headshots.log"


def user_stderr() -> TextIO:
    """Where our own messages go: the terminal, even while descriptor 2 points at the log."""
    return _user[-1] if _user else sys.stderr


def private_values(arguments: Mapping[str, Any]) -> re.Pattern[str] | None:
    """A pattern for what must not reach the log: each path argument (as typed, absolute and
    resolved, its last part and, for a folder, the names in it) and each word of the free-text
    options."""
    literals: set[str] = set()
    words: set[str] = set()
    for key, value in arguments.items():
        if isinstance(value, Path):
            for p in (value, value.absolute(), value.resolve()):
                literals.add(str(p))
            names = [value.name]
            with contextlib.suppress(OSError):  # a folder: the names of the files in it too
                names += [c.name for c, _ in zip(value.iterdir(), range(1000), strict=False)]
            literals.update(n for n in names if len(n) >= 3)
        elif key in _WORD_OPTIONS and isinstance(value, str):
            words.update(w for w in re.findall(r"\w+", value) if len(w) >= 3)
    parts = [re.escape(s) for s in sorted(literals, key=len, reverse=True) if s not in (".", "/")]
    parts += [rf"\b{re.escape(w)}\b" for w in sorted(words)]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _open_log(path: Path) -> TextIO:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > _MAX_BYTES:
            path.replace(path.with_name(path.name + ".1"))
        return path.open("a", encoding="utf-8", errors="replace")
    except OSError:  # no writable home: the noise is dropped rather than shown
        return open(os.devnull, "w")  # noqa: SIM115 - closed by the caller


def _copy_to_log(read_fd: int, log: TextIO, private: re.Pattern[str] | None) -> None:
    def write(raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").rstrip("\r")
        text = text.rsplit("\r", 1)[-1]  # a progress bar redraws with \r: keep where it ended
        if private is not None:
            text = private.sub("<private>", text)
        log.write(text + "\n")
        log.flush()

    pending = b""
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                write(line)
    if pending:
        write(pending)


def _quieter_at_source() -> None:
    """Less to log: settings the libraries read when they are imported (commands import them
    after this runs)."""
    for key, value in (("GLOG_minloglevel", "2"), ("TF_CPP_MIN_LOG_LEVEL", "2"),
                       ("HF_HUB_DISABLE_PROGRESS_BARS", "1")):
        os.environ.setdefault(key, value)


_fd2: list[TextIO] = []


def _stderr_on_fd2() -> TextIO:
    """``sys.stderr`` while a command runs: descriptor 2, whatever it points at. Never closed,
    so a library that kept it (transformers binds its handler on first use) still works after."""
    if not _fd2:
        _fd2.append(io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), encoding="utf-8",
                                     errors="replace", line_buffering=True))
    return _fd2[0]


@contextlib.contextmanager
def _logging_to(stream: TextIO) -> Iterator[None]:
    """Records of the ``headshots`` loggers (ours, and the libraries' that
    ``headshots._quiet`` forwards) go to ``stream`` while a command runs."""
    logger = logging.getLogger("headshots")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextlib.contextmanager
def third_party_output_to_log(command: str, verbose: bool = False,
                              arguments: Mapping[str, Any] | None = None) -> Iterator[None]:
    """While the block runs, descriptor 2 and ``sys.stderr`` feed the log."""
    if _user:  # a command called from another (run calls train): already set up
        yield
        return
    if verbose:
        _user.append(sys.stderr)
        try:
            with _logging_to(sys.stderr):
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
    read_fd, write_fd = os.pipe()
    copier = threading.Thread(target=_copy_to_log, name="headshots-log", daemon=True,
                              args=(read_fd, log, private_values(arguments or {})))
    copier.start()
    old_stderr = sys.stderr
    os.dup2(write_fd, 2)
    os.close(write_fd)
    fd2 = sys.stderr = _stderr_on_fd2()
    _user.append(user)
    try:
        with _logging_to(fd2):
            yield
    finally:
        _user.pop()
        fd2.flush()
        sys.stderr = old_stderr
        os.dup2(saved, 2)  # closes the pipe's last writer here: the copier sees the end
        os.close(saved)
        copier.join(timeout=5)
        log.close()
        if user is not old_stderr:
            user.close()
