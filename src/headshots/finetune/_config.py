"""Training settings, with defaults that suit real headshots (DreamBooth-LoRA)."""

from __future__ import annotations

import re
import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["TrainConfig"]


class TrainConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    identity_token: str = Field("sks", min_length=1, description="rare token that names the person")
    class_word: str = Field(
        "person", min_length=1, description="the person's own choice: woman, man, person, ..."
    )
    prompt_template: str = Field(
        "a photo of {token} {class_word}", description="instance prompt; {token} and {class_word}"
    )
    rank: int = Field(16, ge=1, le=256, description="LoRA rank r")
    alpha: int = Field(16, ge=1, description="LoRA alpha; the update is scaled by alpha / r")
    learning_rate: float = Field(1e-4, gt=0, le=1, description="AdamW learning rate")
    lr_schedule: Literal["constant", "constant_with_warmup", "cosine", "linear"] = Field(
        "constant", description="learning-rate schedule (diffusers.optimization names)"
    )
    warmup_steps: int = Field(0, ge=0, description="learning-rate warm-up steps")
    steps: int | None = Field(
        None, ge=1, description="optimizer steps; None: steps_per_photo x photos, clamped"
    )
    steps_per_photo: int = Field(100, ge=1, description="used when steps is None")
    min_steps: int = Field(400, ge=1, description="lower clamp when steps is None")
    max_steps: int = Field(1500, ge=1, description="upper clamp when steps is None")
    resolution: int | None = Field(
        None, ge=64, description="training size; None: 512 for SD1.5, 1024 for SDXL"
    )
    batch_size: int = Field(1, ge=1, description="images per micro-batch")
    gradient_accumulation: int = Field(1, ge=1, description="micro-batches per optimizer step")
    mixed_precision: Literal["auto", "no", "fp16", "bf16"] = Field(
        "auto", description="auto: bf16 on a GPU of compute capability >= 8.0, else fp16; "
        "none on CPU. fp16/bf16 are honoured on the CPU too (autocast)"
    )
    gradient_checkpointing: bool | None = Field(
        None, description="None: on for SDXL on a GPU (fits 16 GB), off otherwise"
    )
    train_text_encoder: bool = Field(False, description="also train LoRA on the text encoder(s)")
    prior_preservation: bool = Field(
        False, description="mix in class images so the class word keeps its meaning"
    )
    prior_loss_weight: float = Field(1.0, ge=0, description="weight of the class-image loss")
    num_class_images: int = Field(50, ge=1, description="class images generated when needed")
    snr_gamma: float | None = Field(
        None, gt=0, description="min-SNR loss weighting gamma (5.0 is the paper's); None: off"
    )
    seed: int = Field(0, description="seeds data order, noise and validation images")
    checkpoint_every: int = Field(100, ge=1, description="steps between checkpoints")
    keep_checkpoints: int = Field(
        2, ge=1, description="most recent checkpoints kept on disk, besides the best so far"
    )
    validation_styles: tuple[str, ...] = Field(
        ("corporate-grey", "navy-blazer", "outdoor-natural"), min_length=1,
        description="styles (generate's catalog) whose prompts the checkpoints are judged on",
    )
    validation_images: int = Field(
        3, ge=1, description="portraits scored per checkpoint, cycling through the styles"
    )
    validation_steps: int = Field(25, ge=1, description="sampling steps of those portraits")
    validation_guidance: float = Field(7.0, ge=0, description="guidance of those portraits")
    cache_latents: bool = Field(True, description="encode images with the VAE once, flips too")
    flip: bool = Field(True, description="random horizontal flips (cached as latents too)")
    max_grad_norm: float = Field(1.0, gt=0, description="gradient clipping")
    min_photos: int = Field(4, ge=1, description="fewer training images than this is an error")
    holdout: int = Field(
        2, ge=0, description="photos kept out of training to judge likeness on, when the set "
        "has at least holdout_min_photos"
    )
    holdout_min_photos: int = Field(10, ge=2, description="smallest set that gives up a holdout")

    @field_validator("prompt_template")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        except ValueError as exc:
            raise ValueError(f"the prompt template is malformed ({exc})") from None
        if "token" not in fields:
            raise ValueError("the prompt template must contain {token}")
        if fields - {"token", "class_word"}:
            raise ValueError("the prompt template may only use {token} and {class_word}")
        return value

    def total_steps(self, photos: int) -> int:
        if self.steps is not None:
            return self.steps
        return max(self.min_steps, min(self.max_steps, self.steps_per_photo * photos))

    def instance_prompt(self) -> str:
        return self.prompt_template.format(token=self.identity_token, class_word=self.class_word)

    def class_prompt(self) -> str:
        """The instance prompt without the identity token (whatever its place or punctuation)."""
        text = re.sub(r"\s*\{token\}[,;:]?", "", self.prompt_template)
        return re.sub(r"\s{2,}", " ", text.format(class_word=self.class_word)).strip(" ,;:")
