"""Checkpoints: diffusers-format LoRA weights plus everything needed to resume exactly."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from headshots.finetune._model import LoadedModel

__all__ = ["LORA_NAME", "save_lora", "save_state", "read_state", "restore_rng",
           "latest_checkpoint", "prune"]

LORA_NAME = "pytorch_lora_weights.safetensors"
_STATE = "training_state.pt"


def save_lora(model: LoadedModel, directory: Path, text_encoders: bool) -> Path:
    """Write the LoRA in diffusers format with adapter metadata (so alpha != r reloads right)."""
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict

    unet = model.pipe.unet
    kwargs: dict[str, Any] = {
        "unet_lora_layers": convert_state_dict_to_diffusers(get_peft_model_state_dict(unet)),
        "unet_lora_adapter_metadata": unet.peft_config["default"].to_dict(),
    }
    if text_encoders:
        names = ["text_encoder", "text_encoder_2"][: len(model.text_encoders)]
        for name, enc in zip(names, model.text_encoders, strict=True):
            kwargs[f"{name}_lora_layers"] = convert_state_dict_to_diffusers(
                get_peft_model_state_dict(enc)
            )
            kwargs[f"{name}_lora_adapter_metadata"] = enc.peft_config["default"].to_dict()
    tmp = directory.with_name(directory.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    type(model.pipe).save_lora_weights(str(tmp), weight_name=LORA_NAME, **kwargs)
    return tmp / LORA_NAME


def save_state(directory: Path, *, params: dict[str, torch.Tensor], optimizer: Any,
               lr_scheduler: Any, scaler: Any, step: int, history: dict[str, Any]) -> None:
    """Write the resume state next to the LoRA and make the checkpoint appear atomically.
    The fp16 grad scaler's state is part of it: without it a resumed run restarts at scale
    2^16, skips steps the uninterrupted run did not, and the weights differ."""
    tmp = directory.with_name(directory.name + ".part")
    torch.save(
        {
            "params": {k: v.detach().cpu().clone() for k, v in params.items()},
            "optimizer": optimizer.state_dict(),
            "lr_scheduler": lr_scheduler.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else None,
            "step": step,
            "history": history,
            "rng": {
                "torch": torch.get_rng_state(),
                "numpy": np.random.get_state(),
                "python": random.getstate(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            },
        },
        tmp / _STATE,
    )
    shutil.rmtree(directory, ignore_errors=True)
    tmp.rename(directory)


def read_state(directory: Path) -> dict[str, Any]:
    state: dict[str, Any] = torch.load(directory / _STATE, map_location="cpu", weights_only=False)
    return state


def restore_rng(state: dict[str, Any]) -> None:
    rng = state["rng"]
    torch.set_rng_state(rng["torch"])
    np.random.set_state(rng["numpy"])
    random.setstate(rng["python"])
    if rng.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def latest_checkpoint(train_dir: Path) -> Path | None:
    found = sorted(
        p for p in train_dir.glob("checkpoint-*") if p.is_dir() and (p / _STATE).exists()
    )
    return found[-1] if found else None


def prune(train_dir: Path, keep: int, protect: set[int]) -> list[int]:
    """Delete all but the ``keep`` latest checkpoints and those in ``protect`` (the best so
    far); returns the steps deleted. An SDXL rank-16 checkpoint is ~350 MiB."""
    found = sorted(p for p in train_dir.glob("checkpoint-*") if p.is_dir())
    steps = {p: int(p.name.split("-")[1].split(".")[0]) for p in found}
    done = [p for p in found if not p.name.endswith(".part")]
    latest = set(sorted(steps[p] for p in done)[-keep:])
    gone = []
    for p in found:
        if p.name.endswith(".part") or (steps[p] not in latest and steps[p] not in protect):
            shutil.rmtree(p, ignore_errors=True)
            gone.append(steps[p])
    return gone
