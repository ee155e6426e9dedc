"""Generation settings (precision, safety checker, compile, LoRA strength, early rejection) and
the device / precision choices they resolve to, all decided before a model is loaded."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from headshots.errors import ConfigError

__all__ = ["GenerateConfig", "pick_device", "resolve_precision", "DTYPES"]

Precision = Literal["auto", "fp32", "fp16", "bf16"]
DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16,
}


class GenerateConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    precision: Precision = Field(
        "auto", description="weights and activations: auto is fp16 on a GPU (the dtype SD1.5 "
        "and SDXL ship in), fp32 on the CPU; the VAE decodes in fp32 when an fp16 VAE's config "
        "sets force_upcast",
    )
    safety_checker: bool = Field(
        True, description="run the model's own safety checker (SD1.5 has one) on every image; "
        "flagged images are not kept (reason nsfw). False: it is dropped, never put on the "
        "device",
    )
    compile_unet: bool = Field(
        False, description="torch.compile the UNet: the first batches compile (minutes), "
        "long runs on a GPU go faster",
    )
    lora_scale: float = Field(1.0, ge=0.0, le=2.0, description="strength of the person's LoRA")
    early_at: float = Field(
        0.4, gt=0.0, lt=1.0, description="share of the steps after which early rejection looks",
    )


def pick_device(device: str) -> torch.device:
    """'auto' is the GPU when there is one; a named device is checked before any loading."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device != "cpu" and not device.startswith("cuda"):
        raise ConfigError(f"device must be auto, cpu or cuda, got {device!r}",
                          "pass --device auto")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} was asked for but no CUDA GPU is available",
                          "pass --device cpu, or run where a GPU is present")
    return torch.device(device)


def resolve_precision(precision: str, device: torch.device) -> str:
    """The precision 'auto' stands for on ``device``: fp16 on CUDA, fp32 elsewhere (half
    precision on a CPU is slow and only worth it in tests)."""
    if precision == "auto":
        return "fp16" if device.type == "cuda" else "fp32"
    if precision not in DTYPES:
        raise ConfigError(f"precision must be auto, fp32, fp16 or bf16, got {precision!r}",
                          "pass --precision auto")
    return precision
