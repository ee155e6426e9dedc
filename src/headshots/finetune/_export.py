"""The LoRA in kohya's format, which ComfyUI, AUTOMATIC1111/Forge, SD.Next and InvokeAI load.

diffusers writes ``unet.<module>.lora.down.weight`` and keeps alpha only in the file header;
kohya-ss sd-scripts write ``lora_unet_<module with _>.lora_down.weight`` with an ``.alpha``
tensor per module (scale = alpha / rank). Module names follow the UNet kohya trains on: the
diffusers layout for SD1.x (``down_blocks_1_attentions_0_...``), the SGM/LDM layout for SDXL
(``input_blocks_4_1_...``), as kohya's own SDXL files are. Text encoders: ``lora_te_`` (SD1.x),
``lora_te1_``/``lora_te2_`` (SDXL). diffusers' ``_convert_non_diffusers_lora_to_diffusers``
and ``_maybe_map_sgm_blocks_to_diffusers`` read these back; the tests round-trip through them.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

__all__ = ["KOHYA_NAME", "kohya_state_dict", "write_kohya"]

KOHYA_NAME = "lora_kohya.safetensors"

_KEY = re.compile(r"^(unet|text_encoder|text_encoder_2)\.(.+?)\.(?:lora|lora_linear_layer)"
                  r"\.(down|up)\.weight$")
_BLOCK = re.compile(r"^(down_blocks|up_blocks)\.(\d+)\.attentions\.(\d+)\.(.+)$")


def _sgm_unet(module: str, layers_per_block: int) -> str:
    """diffusers -> SGM names of SDXL's attention blocks: a level of ``layers_per_block`` + 1
    input blocks (the last its downsampler), input block 0 is conv_in."""
    if module.startswith("mid_block.attentions.0."):
        return "middle_block.1." + module[len("mid_block.attentions.0."):]
    m = _BLOCK.match(module)
    if m is None:
        raise ValueError(f"no SGM name for UNet module {module}")
    kind, block, layer, rest = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
    per = layers_per_block + 1
    if kind == "down_blocks":
        return f"input_blocks.{1 + block * per + layer}.1.{rest}"
    return f"output_blocks.{block * per + layer}.1.{rest}"


def kohya_state_dict(state: dict[str, torch.Tensor], arch: str, alpha: float,
                     layers_per_block: int = 2) -> dict[str, torch.Tensor]:
    """Convert a diffusers-format LoRA state dict; every module gets its ``.alpha``."""
    out: dict[str, torch.Tensor] = {}
    te = {"text_encoder": "lora_te" if arch == "sd15" else "lora_te1",
          "text_encoder_2": "lora_te2"}
    for key, tensor in state.items():
        m = _KEY.match(key)
        if m is None:
            raise ValueError(f"not a diffusers LoRA key: {key}")
        part, module, which = m.groups()
        if part == "unet":
            if arch == "sdxl":
                module = _sgm_unet(module, layers_per_block)
            name = "lora_unet_" + module.replace(".", "_")
        else:
            name = f"{te[part]}_" + module.replace(".", "_")
        out[f"{name}.lora_{which}.weight"] = tensor.contiguous()
        out[f"{name}.alpha"] = torch.tensor(float(alpha))
    return out


def write_kohya(lora_file: Path, out: Path, *, arch: str, alpha: float, rank: int,
                layers_per_block: int) -> Path:
    """``lora_file`` (diffusers format) rewritten as a kohya file with sd-scripts' header keys
    (nothing about the person in it)."""
    from safetensors.torch import load_file, save_file

    tensors = kohya_state_dict(load_file(str(lora_file)), arch, alpha, layers_per_block)
    metadata = {
        "ss_network_module": "networks.lora",
        "ss_network_dim": str(rank),
        "ss_network_alpha": str(alpha),
        "ss_base_model_version": "sd_v1" if arch == "sd15" else "sdxl_base_v1-0",
        "ss_v2": "False",
        "modelspec.sai_model_spec": "1.0.0",
        "modelspec.architecture": ("stable-diffusion-v1/lora" if arch == "sd15"
                                   else "stable-diffusion-xl-v1-base/lora"),
        "modelspec.title": "headshots LoRA",
    }
    tmp = out.with_name(out.name + ".part")
    save_file(tensors, str(tmp), metadata=metadata)
    tmp.replace(out)
    return out
