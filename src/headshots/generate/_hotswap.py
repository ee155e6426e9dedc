"""One person's LoRA in a pipeline that a worker keeps loaded for the next person.

The first order on a kept pipeline loads its LoRA after ``enable_lora_hotswap`` (ranks padded to
``HOTSWAP_RANK``); later orders load theirs in place (peft hotswap: same modules, same
parameters, new values), so a compiled UNet is reused instead of recompiled. When an order's
stage ends its weights are zeroed in place: nothing of the person stays in memory, and the
empty adapter adds nothing to the next order's images. Where shapes don't allow a swap (other
target modules, a rank above the padding) the adapter is deleted and loaded afresh.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

__all__ = ["HOTSWAP_RANK", "clear_lora", "swap_in_lora"]

log = logging.getLogger("headshots.generate")
HOTSWAP_RANK = 64  # the padding: LoRAs up to this rank swap in place


def _has(pipe: Any, adapter: str) -> bool:
    return any(adapter in names for names in pipe.get_list_adapters().values())


def swap_in_lora(model: Any, lora_file: Path | None, adapter: str, scale: float,
                 keep_pipeline: bool) -> bool:
    """Put ``lora_file`` (or no LoRA) into ``model.pipe`` as ``adapter``. True when it went in
    place of an earlier one (the UNet's modules are unchanged: a compiled UNet stays valid)."""
    pipe = model.pipe
    ready = keep_pipeline and getattr(model, "hotswap_ready", False) and _has(pipe, adapter)
    if lora_file is None:
        if ready:
            clear_lora(model, adapter)  # already empty after the last stage; make sure
            return True
        if _has(pipe, adapter):
            pipe.delete_adapters(adapter)
            model.compiled_unet = None
        return False
    if ready:
        try:
            pipe.load_lora_weights(str(lora_file.parent), weight_name=lora_file.name,
                                   adapter_name=adapter, hotswap=True)
            if getattr(model, "lora_scale", None) != scale:
                pipe.set_adapters([adapter], adapter_weights=[scale])
                model.lora_scale = scale
            return True
        except (RuntimeError, ValueError, KeyError) as exc:  # shapes don't allow a swap
            log.info("LoRA not swapped in place (%s); loading it afresh", type(exc).__name__)
    if _has(pipe, adapter):
        pipe.delete_adapters(adapter)
    model.compiled_unet = None  # the UNet's modules change: a compiled one is stale
    if keep_pipeline:
        pipe.unet.enable_lora_hotswap(target_rank=HOTSWAP_RANK, check_compiled="ignore")
    pipe.load_lora_weights(str(lora_file.parent), weight_name=lora_file.name,
                           adapter_name=adapter)
    pipe.set_adapters([adapter], adapter_weights=[scale])
    model.lora_scale = scale
    model.hotswap_ready = keep_pipeline
    return False


@torch.no_grad()
def clear_lora(model: Any, adapter: str) -> None:
    """Zero the adapter's weights in place (or delete it where no swap will follow)."""
    pipe = model.pipe
    if not _has(pipe, adapter):
        return
    if not getattr(model, "hotswap_ready", False):
        pipe.delete_adapters(adapter)
        model.compiled_unet = None
        return
    for module in pipe.unet.modules():
        for name in ("lora_A", "lora_B"):
            layers = getattr(module, name, None)
            if layers is not None and adapter in layers:
                for p in layers[adapter].parameters():
                    p.zero_()
