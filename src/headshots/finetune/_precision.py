"""Mixed precision and device placement: the same code path on the CPU as on a GPU, so a dtype
mistake fails the CPU tests instead of a customer's first GPU run."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import torch

from headshots.errors import ConfigError
from headshots.finetune._config import TrainConfig

__all__ = ["precision", "amp_factory", "on_device", "bf16_capable", "dtype_name"]

_NAMES = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}


def bf16_capable(device: torch.device) -> bool:
    """bf16 at full speed needs compute capability >= 8.0 (Ampere). On a T4 or V100
    ``torch.cuda.is_bf16_supported()`` answers True because it emulates bf16, many times slower."""
    if device.type != "cuda":
        return True  # the CPU has real bf16 kernels
    return torch.cuda.get_device_capability(device) >= (8, 0)


def precision(config: TrainConfig, device: torch.device) -> torch.dtype:
    """The autocast dtype: ``auto`` is bf16 on an Ampere-or-newer GPU, fp16 on an older one,
    fp32 on the CPU; an explicit fp16/bf16 is honoured on any device."""
    choice = config.mixed_precision
    if choice == "no" or (choice == "auto" and device.type != "cuda"):
        return torch.float32
    if choice == "auto":
        return torch.bfloat16 if bf16_capable(device) else torch.float16
    if choice == "bf16" and not bf16_capable(device):
        major, minor = torch.cuda.get_device_capability(device)
        raise ConfigError(
            f"bf16 needs a GPU of compute capability 8.0 or newer; this one is {major}.{minor} "
            "and would emulate it many times slower",
            "pass --mixed-precision fp16 (or auto)",
        )
    return torch.bfloat16 if choice == "bf16" else torch.float16


def dtype_name(dtype: torch.dtype) -> str:
    return _NAMES.get(dtype, str(dtype))


def amp_factory(device: torch.device,
                dtype: torch.dtype) -> Callable[[], AbstractContextManager[Any]]:
    """A maker of fresh autocast contexts (none in fp32), for the training step, the evaluation
    loss and every sampling the trainer does."""
    if dtype == torch.float32:
        return nullcontext
    return lambda: torch.autocast(device.type, dtype=dtype)


@contextmanager
def on_device(modules: Sequence[Any], device: torch.device) -> Iterator[None]:
    """Move ``modules`` to ``device`` for the block and back to where each was afterwards, so
    parts parked off the GPU during the loop do not stay there after one validation."""
    homes = [next(m.parameters()).device for m in modules]
    for m in modules:
        m.to(device)
    try:
        yield
    finally:
        for m, home in zip(modules, homes, strict=True):
            m.to(home)
        if device.type == "cuda" and any(h != device for h in homes):
            torch.cuda.empty_cache()
