"""DreamBooth-LoRA fine-tuning (SD1.5 and SDXL) with checkpoint choice by likeness."""

from headshots.finetune._checkpoint import LORA_NAME
from headshots.finetune._config import TrainConfig
from headshots.finetune._export import KOHYA_NAME, kohya_state_dict, write_kohya
from headshots.finetune._likeness import (
    FaceLikenessScorer,
    LikenessScore,
    LikenessScorer,
    choose_checkpoint,
)
from headshots.finetune._model import (
    NATIVE_RESOLUTION,
    SUPPORTED,
    LoadedModel,
    encode_prompts,
    load_base_model,
    model_fingerprint,
    native_resolution,
)
from headshots.finetune._precision import precision
from headshots.finetune._train import ProgressFn, TrainResult, resolve_device, train_lora

__all__ = [
    "KOHYA_NAME",
    "LORA_NAME",
    "NATIVE_RESOLUTION",
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
    "kohya_state_dict",
    "load_base_model",
    "model_fingerprint",
    "native_resolution",
    "precision",
    "resolve_device",
    "train_lora",
    "write_kohya",
]
