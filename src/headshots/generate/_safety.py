"""The model's own safety checker (SD1.5 ships one), run on finished images as the diffusers
pipeline runs it, and a guard that keeps other libraries' log lines off the user's terminal."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

__all__ = ["SafetyChecker", "quiet_libraries"]

_LOGGERS = ("diffusers", "transformers", "peft")


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Raise the diffusers / transformers / peft loggers to ERROR and hide their progress bars
    for the block (their warnings, e.g. the checker's 'black image will be returned', and
    loading bars are ours to report)."""
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    loggers = [logging.getLogger(name) for name in _LOGGERS]
    levels = [lg.level for lg in loggers]
    bars = [(lib, lib.is_progress_bar_enabled()) for lib in (dlog, tlog)]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    for lib, _ in bars:
        lib.disable_progress_bar()
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
        for lib, enabled in bars:
            if enabled:
                lib.enable_progress_bar()


class SafetyChecker:
    """``flags(images)``: one bool per uint8 RGB image, True where the checker finds an
    unsafe concept. The checker runs on ``device`` in ``dtype`` like the pipeline's does."""

    def __init__(self, checker: Any, feature_extractor: Any, device: torch.device,
                 dtype: torch.dtype) -> None:
        if feature_extractor is None:
            from headshots.errors import BaseModelError

            raise BaseModelError("the base model has a safety checker but no feature_extractor",
                                 "re-save the model complete, or turn the safety checker off")
        self.checker, self.extractor = checker, feature_extractor
        self.device, self.dtype = device, dtype

    @torch.no_grad()
    def flags(self, images: Sequence[np.ndarray]) -> list[bool]:
        if not images:
            return []
        clip = self.extractor([Image.fromarray(im) for im in images], return_tensors="pt")
        floats = [im.astype(np.float32) / 255.0 for im in images]  # blacked out on a hit; unused
        with quiet_libraries():
            _, found = self.checker(clip_input=clip.pixel_values.to(self.device, self.dtype),
                                    images=floats)
        return [bool(f) for f in found]
