"""An order's parameters: everything that decides its result, validated and frozen when the
order is created. Changing one means a new order (or an explicit re-run of the stages it
affects), never a silent skip of work done under other settings."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from headshots.errors import ConfigError

__all__ = ["OrderParams", "params_error"]


class OrderParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_model: str = Field(min_length=1, description="diffusers folder or hub id")
    class_word: str = Field("person", min_length=1, max_length=40,
                            description="the person's own choice: woman, man, person, ...")
    token: str = Field("sks", min_length=1, max_length=20, description="rare identity token")
    styles: tuple[str, ...] = Field(
        ("corporate-grey", "navy-blazer", "outdoor-natural"), min_length=1,
        description="style ids from the catalog (headshots styles)",
    )
    prompt: str | None = Field(None, description="a custom look instead of catalog styles")
    custom_styles: tuple[dict[str, Any], ...] = Field(
        (), description="the person's own styles (headshots.generate.Style fields)"
    )
    candidates: int = Field(200, ge=1, le=5000, description="candidates to generate")
    top: int | None = Field(
        None, ge=1, description="headshots to deliver; None: 100 of a 1000-candidate run, "
        "scaled to the run's size")
    preview_count: int = Field(8, ge=1, le=64, description="preview images before the full run")
    train_steps: int | None = Field(None, ge=1, description="None: 100 per photo, 400-1500")
    resolution: int | None = Field(None, ge=64, le=2048,
                                   description="None: the model's native size")
    learning_rate: float = Field(1e-4, gt=0, le=1)
    rank: int = Field(16, ge=1, le=256)
    seed: int = Field(0, ge=0)
    sample_steps: int | None = Field(None, ge=1, le=200)
    guidance: float | None = Field(None, ge=0, le=30)
    early_reject: bool = True
    mixed_precision: Literal["auto", "no", "fp16", "bf16"] = Field(
        "auto", description="training precision")
    precision: Literal["auto", "fp32", "fp16", "bf16"] = Field(
        "auto", description="generation precision (auto: fp16 on a GPU, fp32 on the CPU)")
    safety_checker: bool = Field(True, description="run the model's safety checker, if any")
    allow_unready: bool = Field(False, description="train even if the check says not ready")
    train_overrides: dict[str, Any] = Field(
        default_factory=dict, description="further TrainConfig fields (advanced and tests)"
    )

    @field_validator("styles", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(s.strip() for s in value.split(",") if s.strip())
        return value

    def train_config(self) -> Any:
        """The fine-tune's ``TrainConfig`` (``resolution`` None lets the trainer pick)."""
        from headshots.finetune import TrainConfig

        steps = self.train_steps
        values: dict[str, Any] = dict(
            steps=steps, resolution=self.resolution, learning_rate=self.learning_rate,
            rank=self.rank, alpha=self.rank, seed=self.seed, class_word=self.class_word,
            identity_token=self.token, mixed_precision=self.mixed_precision,
            checkpoint_every=max(1, (steps or 400) // 4),
        )
        values.update(self.train_overrides)
        return TrainConfig(**values)

    def style_list(self) -> list[Any]:
        from headshots.generate import Style, builtin_styles, custom_style, pick_styles

        if self.prompt:
            return [custom_style(self.prompt)]
        catalog = builtin_styles()
        for data in self.custom_styles:
            try:
                style = Style(**data)
            except ValidationError as exc:
                raise params_error(exc, prefix="custom_styles.") from None
            catalog[style.id] = style
        return list(pick_styles(catalog, list(self.styles)))

    def generate_config(self) -> Any:
        from headshots.generate import GenerateConfig

        return GenerateConfig(precision=self.precision, safety_checker=self.safety_checker)

    def validate_all(self) -> OrderParams:
        """Everything that can be checked without loading a model: styles exist, training
        settings are valid. Raises ``ConfigError`` naming the setting."""
        self.style_list()
        try:
            self.train_config()
        except ValidationError as exc:
            raise params_error(exc, prefix="train_overrides.") from None
        return self

    def digest(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True,
                               separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def changes(self, other: OrderParams) -> list[str]:
        """Names of the settings that differ, for 'a new order because ... changed'."""
        mine, theirs = self.model_dump(), other.model_dump()
        return sorted(k for k in mine if mine[k] != theirs.get(k))


def params_error(exc: ValidationError, prefix: str = "") -> ConfigError:
    err = exc.errors()[0]
    where = prefix + ".".join(str(x) for x in err["loc"])
    value = err.get("input")
    return ConfigError(f"order setting {where}={value!r} is invalid: {err['msg']}",
                       f"fix {where} (see headshots run --help)")
