"""Getting a loaded base model ready to train: LoRA adapters, dtypes, devices."""

from __future__ import annotations

import torch

from headshots.finetune._config import TrainConfig
from headshots.finetune._model import LoadedModel

__all__ = ["add_adapters", "place", "trained_parameters", "LORA_TARGETS"]

LORA_TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]
_TEXT_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]


def add_adapters(model: LoadedModel, config: TrainConfig) -> None:
    from peft import LoraConfig

    unet = model.pipe.unet
    for module in [unet, model.pipe.vae, *model.text_encoders]:
        module.requires_grad_(False)
    torch.manual_seed(config.seed)  # the LoRA's gaussian init
    unet.add_adapter(LoraConfig(r=config.rank, lora_alpha=config.alpha,
                                init_lora_weights="gaussian", target_modules=LORA_TARGETS))
    if config.train_text_encoder:
        for enc in model.text_encoders:
            enc.add_adapter(LoraConfig(r=config.rank, lora_alpha=config.alpha,
                                       init_lora_weights="gaussian", target_modules=_TEXT_TARGETS))


def place(model: LoadedModel, config: TrainConfig, dev: torch.device, dtype: torch.dtype,
          use_checkpointing: bool) -> None:
    """Frozen weights in the autocast dtype (as diffusers' scripts cast them to weight_dtype),
    trained LoRA weights in fp32 (their optimizer needs the precision). The VAE stays fp32, as
    in diffusers' SDXL script: SDXL's VAE overflows in fp16 (its config says force_upcast), bf16
    latents would lose precision once for the whole run, and the VAE only runs to cache the
    latents and to decode validation portraits, so fp32 costs little. Done the same way on the
    CPU when mixed precision is asked for there."""
    unet, vae = model.pipe.unet, model.pipe.vae
    if use_checkpointing:
        unet.enable_gradient_checkpointing()
    unet.to(dev)
    if dtype != torch.float32:
        unet.to(dtype=dtype)
    vae.to(dev, dtype=torch.float32)
    for enc in model.text_encoders:
        enc.to(dev)
        if dtype != torch.float32:
            enc.to(dtype=dtype)
    for module in [unet, *(model.text_encoders if config.train_text_encoder else [])]:
        for p in module.parameters():
            if p.requires_grad:
                p.data = p.data.float()


def trained_parameters(model: LoadedModel, config: TrainConfig) -> dict[str, torch.nn.Parameter]:
    trained = {f"unet.{n}": p for n, p in model.pipe.unet.named_parameters() if p.requires_grad}
    if config.train_text_encoder:
        for i, enc in enumerate(model.text_encoders):
            trained.update({f"text_encoder{i}.{n}": p for n, p in enc.named_parameters()
                            if p.requires_grad})
    return trained

