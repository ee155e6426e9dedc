"""What to generate: one request per candidate, reproducible from its seed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from headshots.generate._styles import Identity, Style

__all__ = ["GenerationRequest", "Generated", "Generator", "plan_requests"]


@dataclass(frozen=True)
class GenerationRequest:
    style: str
    seed: int
    prompt: str
    negative_prompt: str
    steps: int
    guidance: float
    width: int
    height: int

    @property
    def id(self) -> str:
        return f"{self.style}-{self.seed}"

    def settings(self) -> dict[str, Any]:
        return {"steps": self.steps, "guidance": self.guidance, "width": self.width,
                "height": self.height}


@dataclass
class Generated:
    """One finished request: its pixels, or None when it was stopped early (``info`` says why
    and how many UNet evaluations it cost)."""

    request: GenerationRequest
    pixels: np.ndarray | None
    info: dict[str, Any] = field(default_factory=dict)


class Generator(Protocol):
    def generate(self, requests: Sequence[GenerationRequest]) -> Sequence[Generated]:
        """Generate one batch (the caller streams batches to disk)."""
        ...

    def fingerprint(self) -> dict[str, Any]:
        """JSON-able facts every candidate depends on beyond its request (model, LoRA hash,
        precision...): candidates made under another fingerprint are stale."""
        ...


def plan_requests(
    styles: Sequence[Style], identity: Identity, count: int, *, seed: int = 0,
    size: tuple[int, int] = (512, 512), steps: int | None = None, guidance: float | None = None,
) -> list[GenerationRequest]:
    """``count`` requests spread round-robin over ``styles``, seeds ``seed``, ``seed+1``, ..."""
    out = []
    for i in range(count):
        style = styles[i % len(styles)]
        out.append(GenerationRequest(
            style=style.id, seed=seed + i, prompt=style.prompt(identity),
            negative_prompt=style.negative_prompt, steps=steps or style.steps,
            guidance=style.guidance if guidance is None else guidance,
            width=size[0], height=size[1],
        ))
    return out
