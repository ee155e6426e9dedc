"""Loading a base model (SD1.5 or SDXL, diffusers layout) with typed errors, and text encoding."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from headshots.errors import BaseModelError

__all__ = ["SUPPORTED", "LoadedModel", "load_base_model", "encode_prompts"]

SUPPORTED = {"StableDiffusionPipeline": "sd15", "StableDiffusionXLPipeline": "sdxl"}


@dataclass
class LoadedModel:
    pipe: Any  # StableDiffusionPipeline | StableDiffusionXLPipeline
    arch: str  # "sd15" | "sdxl"
    source: str

    @property
    def text_encoders(self) -> list[Any]:
        encs = [self.pipe.text_encoder]
        if self.arch == "sdxl":
            encs.append(self.pipe.text_encoder_2)
        return encs

    @property
    def tokenizers(self) -> list[Any]:
        toks = [self.pipe.tokenizer]
        if self.arch == "sdxl":
            toks.append(self.pipe.tokenizer_2)
        return toks

    @property
    def unet_parameters(self) -> int:
        return sum(p.numel() for p in self.pipe.unet.parameters())


def load_base_model(source: str | Path, dtype: torch.dtype = torch.float32) -> LoadedModel:
    """Load a local diffusers folder (or a hub id where a hub is reachable)."""
    from diffusers import DiffusionPipeline

    path = Path(source)
    if path.exists():
        index = path / "model_index.json"
        if not index.is_file():
            raise BaseModelError(
                f"base model {source} has no model_index.json",
                "pass a diffusers-format folder (save_pretrained layout)",
            )
        try:
            cls = json.loads(index.read_text()).get("_class_name", "")
        except (OSError, ValueError) as exc:
            raise BaseModelError(f"base model {source}: model_index.json is unreadable ({exc})",
                                 "re-download or re-save the model") from exc
        if cls not in SUPPORTED:
            raise BaseModelError(
                f"base model {source} is a {cls or 'pipeline of unknown kind'}, not supported",
                "use a Stable Diffusion 1.5-family (StableDiffusionPipeline) or SDXL "
                "(StableDiffusionXLPipeline) model",
            )
    elif str(source).count("/") != 1 or str(source).startswith((".", "/")):
        raise BaseModelError(
            f"base model {source} does not exist",
            "pass a local diffusers folder, or a hub id like org/name on a machine with internet",
        )
    try:
        pipe = DiffusionPipeline.from_pretrained(str(source), dtype=dtype)
    except Exception as exc:  # noqa: BLE001 - any loader failure is the model's fault, say which
        raise BaseModelError(f"base model {source} could not be loaded ({exc})",
                             "check the folder is complete, or the hub id and your connection") \
            from exc
    arch = SUPPORTED.get(type(pipe).__name__)
    if arch is None:
        raise BaseModelError(
            f"base model {source} is a {type(pipe).__name__}, not supported",
            "use an SD1.5-family or SDXL model",
        )
    return LoadedModel(pipe=pipe, arch=arch, source=str(source))


def encode_prompts(
    model: LoadedModel, prompts: list[str], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(prompt embeddings, pooled embeddings for SDXL or None), like the pipelines do it."""
    if model.arch == "sd15":
        tok = model.pipe.tokenizer
        ids = tok(prompts, padding="max_length", max_length=tok.model_max_length,
                  truncation=True, return_tensors="pt").input_ids.to(device)
        return model.pipe.text_encoder(ids)[0], None
    embeds, pooled = [], None
    for tok, enc in zip(model.tokenizers, model.text_encoders, strict=True):
        ids = tok(prompts, padding="max_length", max_length=tok.model_max_length,
                  truncation=True, return_tensors="pt").input_ids.to(device)
        out = enc(ids, output_hidden_states=True)
        embeds.append(out.hidden_states[-2])
        pooled = out[0]  # text_embeds of the projection encoder (the last one)
    return torch.cat(embeds, dim=-1), pooled
