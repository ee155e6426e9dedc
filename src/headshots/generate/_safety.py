"""The model's own safety checker (SD1.5 ships one), run on finished images as the diffusers
pipeline runs it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from headshots._quiet import quiet_libraries

__all__ = ["SafetyChecker", "quiet_libraries"]


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
