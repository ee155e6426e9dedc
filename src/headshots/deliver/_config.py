"""Settings of the delivery stage."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DeliverConfig", "Framing", "Inputs"]


class Framing(StrEnum):
    """Standard headshot shapes (width:height)."""

    SQUARE = "1:1"
    PORTRAIT = "4:5"

    @property
    def aspect(self) -> float:
        """Height / width."""
        w, h = self.value.split(":")
        return int(h) / int(w)

    @property
    def folder(self) -> str:
        return "square" if self is Framing.SQUARE else "portrait"


class Inputs(StrEnum):
    """What the selected images are: it decides how the delivered files are labelled."""

    GENERATED = "generated"  # made by the fine-tuned model: labelled AI-generated
    STAND_IN = "stand-in"  # real photographs standing in for generated ones (the demo)


class DeliverConfig(BaseModel):
    """How delivered headshots are framed, encoded, labelled and summarised."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    inputs: Inputs = Field(
        Inputs.GENERATED,
        description="'generated': XMP DigitalSourceType trainedAlgorithmicMedia and a C2PA "
        "c2pa.created manifest. 'stand-in': real photographs (as `headshots demo` uses): no AI "
        "claim, C2PA records the photograph opened, cropped and resized; files, sheet and "
        "USAGE.md say 'stand-in'",
    )
    framings: tuple[Framing, ...] = Field(
        (Framing.SQUARE, Framing.PORTRAIT), min_length=1,
        description="shapes every selected headshot is delivered in",
    )
    width: int = Field(
        1024, ge=64, le=4096, description="output width in px (1:1 -> 1024x1024, 4:5 -> 1024x1280)"
    )
    eye_mouth: float = Field(
        0.15, ge=0.05, le=0.4,
        description="eye-to-mouth distance / output width: the same head size in every image "
        "(0.15 frames head and shoulders)",
    )
    eye_y_square: float = Field(
        0.42, gt=0.2, lt=0.7, description="eye line as a fraction of the height in 1:1 images"
    )
    eye_y_portrait: float = Field(
        0.40, gt=0.2, lt=0.7, description="eye line as a fraction of the height in 4:5 images"
    )
    upscale_warning: float = Field(
        1.6, gt=1.0,
        description="framing that enlarges the source more than this is flagged in the report",
    )
    image_format: Literal["jpeg", "png"] = Field(
        "jpeg", description="file type of the delivered headshots"
    )
    jpeg_quality: int = Field(95, ge=50, le=100, description="JPEG quality of delivered files")
    sign_c2pa: bool = Field(
        True, description="embed a signed C2PA manifest (see ``inputs`` for what it records)"
    )
    c2pa_thumbnail: bool = Field(
        False, description="also embed a manifest thumbnail (adds ~100-500 kB per image)"
    )
    software_agent: str = Field(
        "headshots", min_length=1, description="named as the creating software in XMP and C2PA"
    )
    sheet_columns: int = Field(4, ge=1, le=10, description="columns of the contact sheet")
    sheet_cell: int = Field(256, ge=96, le=1024, description="thumbnail side on the contact sheet")
