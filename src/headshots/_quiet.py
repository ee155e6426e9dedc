"""Other libraries' chatter, kept for bug reports but off the person's screen.

diffusers, transformers, peft and accelerate log advice meant for library developers (dtype
casts, adapter keys, truncated prompts) and draw loading bars. Inside ``quiet_libraries()``
their bars are hidden and their log records are handed to the ``headshots.libraries`` logger
instead of their own stderr handlers: the front end decides where that goes (the CLI: its log
file, or the terminal with ``--verbose``; the service: its log). A library user who configures
no logging sees nothing, as with any library.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LIBRARY_LOGGER", "quiet_libraries"]

LIBRARY_LOGGER = "headshots.libraries"
_LIBRARIES = ("diffusers", "transformers", "peft", "accelerate")
logging.getLogger(LIBRARY_LOGGER).addHandler(logging.NullHandler())


class _Forward(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(LIBRARY_LOGGER).handle(record)


@contextmanager
def quiet_libraries() -> Iterator[None]:
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    forward = _Forward()
    saved = []
    for name in _LIBRARIES:
        lg = logging.getLogger(name)
        saved.append((lg, lg.handlers[:], lg.propagate))
        lg.handlers = [forward]
        lg.propagate = False
    bars = [(lib, lib.is_progress_bar_enabled()) for lib in (dlog, tlog)]
    for lib, _ in bars:
        lib.disable_progress_bar()
    try:
        yield
    finally:
        for lg, handlers, propagate in saved:
            lg.handlers, lg.propagate = handlers, propagate
        for lib, enabled in bars:
            if enabled:
                lib.enable_progress_bar()
