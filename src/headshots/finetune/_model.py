"""Loading a base model (SD1.5 or SDXL, diffusers layout) with typed errors, and text encoding."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from headshots.errors import BaseModelError

__all__ = ["SUPPORTED", "NATIVE_RESOLUTION", "LoadedModel", "load_base_model", "encode_prompts",
           "model_fingerprint", "native_resolution"]

SUPPORTED = {"StableDiffusionPipeline": "sd15", "StableDiffusionXLPipeline": "sdxl"}
NATIVE_RESOLUTION = {"sd15": 512, "sdxl": 1024}


def native_resolution(source: str | Path) -> int | None:
    """The size a model trains at, read from its model_index.json without loading any weights
    (so crops can be prepared before the model is loaded); None when it cannot tell."""
    index = Path(source) / "model_index.json"
    try:
        if index.is_file():
            cls = json.loads(index.read_text()).get("_class_name", "")
        else:  # a hub id: only the small index file is fetched
            from diffusers import DiffusionPipeline

            cls = DiffusionPipeline.load_config(str(source)).get("_class_name", "")
    except Exception:  # noqa: BLE001 - unknown is an answer here; loading reports the cause
        return None
    arch = SUPPORTED.get(cls)
    return NATIVE_RESOLUTION[arch] if arch else None


@dataclass
class LoadedModel:
    pipe: Any  # StableDiffusionPipeline | StableDiffusionXLPipeline
    arch: str  # "sd15" | "sdxl"
    source: str
    # kept by a worker between orders (see headshots.generate._hotswap)
    compiled_unet: Any = None
    hotswap_ready: bool = False
    lora_scale: float | None = None

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
    from headshots._quiet import quiet_libraries

    try:
        with quiet_libraries():
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


def model_fingerprint(model: LoadedModel) -> str:
    """A cheap identity of the base model's weights: every tensor's name and shape and its first
    256 values, for the UNet, VAE and text encoders (LoRA layers left out), so a resume can
    tell that the model it continues on is the one it started on."""
    digest = hashlib.sha256(model.arch.encode())
    modules = {"unet": model.pipe.unet, "vae": model.pipe.vae}
    modules.update({f"text_encoder{i}": e for i, e in enumerate(model.text_encoders)})
    for part, module in modules.items():
        for name, tensor in module.state_dict().items():
            if "lora_" in name:
                continue
            name = name.replace(".base_layer.", ".")  # peft's wrapper of a targeted layer
            digest.update(f"{part}.{name}{tuple(tensor.shape)}".encode())
            head = tensor.detach().reshape(-1)[:256].to("cpu", torch.float32)
            digest.update(head.numpy().tobytes())
    return digest.hexdigest()


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
