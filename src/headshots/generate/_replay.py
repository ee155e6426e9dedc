"""A generator that serves existing images (real photos, variants, another system's output):
it lets judge/select/deliver and whole runs be tested on real faces."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from headshots.errors import InputError
from headshots.generate._requests import Generated, GenerationRequest
from headshots.media import decode_image

__all__ = ["ReplayGenerator"]


class ReplayGenerator:
    def __init__(self, images: Sequence[Path]) -> None:
        if not images:
            raise InputError("the replay generator was given no images", "pass image files")
        self.images = list(images)
        self.served = 0

    def fingerprint(self) -> dict[str, Any]:
        """The served files by name and size, hashed (names may be personal)."""
        h = hashlib.sha256()
        for p in self.images:
            h.update(f"{p.name}\0{p.stat().st_size}\0".encode())
        return {"generator": "replay", "images": h.hexdigest()[:16]}

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generated]:
        out = []
        for r in requests:
            path = self.images[r.seed % len(self.images)]
            pixels = decode_image(path).pixels
            out.append(Generated(r, pixels, {"unet_evals": 0, "replay_of": path.name}))
            self.served += 1
        return out
