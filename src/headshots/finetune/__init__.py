"""DreamBooth-LoRA fine-tuning (SD1.5 and SDXL) with checkpoint choice by likeness."""

from headshots.finetune._checkpoint import LORA_NAME
from headshots.finetune._config import TrainConfig
from headshots.finetune._likeness import (
    FaceLikenessScorer,
    LikenessScore,
    LikenessScorer,
    choose_checkpoint,
)
from headshots.finetune._model import SUPPORTED, LoadedModel, encode_prompts, load_base_model
from headshots.finetune._train import ProgressFn, TrainResult, resolve_device, train_lora

__all__ = [
    "LORA_NAME",
    "SUPPORTED",
    "FaceLikenessScorer",
    "LikenessScore",
    "LikenessScorer",
    "LoadedModel",
    "ProgressFn",
    "TrainConfig",
    "TrainResult",
    "choose_checkpoint",
    "encode_prompts",
    "load_base_model",
    "resolve_device",
    "train_lora",
]
