"""The kohya copy of the LoRA: the names ComfyUI/AUTOMATIC1111 expect, alpha per module, and
every tensor mapping back onto the diffusers file (read back by diffusers' own converter)."""

from __future__ import annotations

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from headshots.finetune import KOHYA_NAME, LORA_NAME, TrainConfig, kohya_state_dict, train_lora
from headshots.finetune._export import _sgm_unet
from tests.finetune._unet import unet_out

FAST = dict(learning_rate=1e-2, checkpoint_every=2, rank=4, alpha=8, resolution=64)


def _normalise(key):
    """diffusers' converter writes the old attention-processor spelling."""
    key = key.replace(".processor.to_out_lora.", ".to_out.0.lora.")
    for p in ("q", "k", "v"):
        key = key.replace(f".processor.to_{p}_lora.", f".to_{p}.lora.")
    return key


@pytest.mark.parametrize("arch", ["sd15", "sdxl"])
def test_kohya_file_round_trips_onto_the_diffusers_lora(tmp_path, tiny, crops, arch):
    from diffusers import DiffusionPipeline
    from diffusers.loaders.lora_conversion_utils import (
        _convert_non_diffusers_lora_to_diffusers,
        _maybe_map_sgm_blocks_to_diffusers,
    )

    result = train_lora(crops, tiny[arch], tmp_path / "r", TrainConfig(steps=2, **FAST),
                        device="cpu")
    assert result.kohya == tmp_path / "r" / "train" / KOHYA_NAME
    assert result.report["lora_kohya"] == str(result.kohya)
    ours, kohya = load_file(str(result.lora)), load_file(str(result.kohya))
    modules = {k.split(".")[0] for k in kohya}
    assert all(m.startswith("lora_unet_") for m in modules)
    assert len(modules) * 2 == len(ours)
    for m in modules:  # alpha is the configured 8 while the rank is 4: scale 2, as trained
        assert kohya[f"{m}.alpha"].item() == 8.0 and kohya[f"{m}.lora_down.weight"].shape[0] == 4
    blocks = {m.split("_transformer_blocks")[0] for m in modules}
    if arch == "sd15":  # kohya trains SD1.x on the diffusers UNet layout
        assert "lora_unet_down_blocks_1_attentions_0" in blocks
    else:  # and SDXL on the SGM layout
        assert {"lora_unet_input_blocks_3_1", "lora_unet_middle_block_1",
                "lora_unet_output_blocks_0_1"} <= blocks
        assert not any("down_blocks" in b or "up_blocks" in b for b in blocks)
    with safe_open(str(result.kohya), "pt") as f:
        meta = f.metadata()
    assert meta["ss_network_dim"] == "4" and meta["ss_network_alpha"] == "8"
    assert meta["ss_base_model_version"] == ("sd_v1" if arch == "sd15" else "sdxl_base_v1-0")

    fresh = DiffusionPipeline.from_pretrained(str(tiny[arch]))
    back = _maybe_map_sgm_blocks_to_diffusers(dict(kohya), fresh.unet.config)
    converted, alphas = _convert_non_diffusers_lora_to_diffusers(back)
    mapped = {_normalise(k): v for k, v in converted.items()}
    assert mapped.keys() == ours.keys()
    assert all(torch.equal(mapped[k], ours[k]) for k in ours)
    assert set(alphas.values()) == {8.0}

    base = unet_out(fresh, arch)
    fresh.load_lora_weights(str(result.lora.parent), weight_name=LORA_NAME, adapter_name="d")
    via_diffusers = unet_out(fresh, arch)
    fresh.delete_adapters("d")
    fresh.load_lora_weights(str(result.kohya), adapter_name="k")
    via_kohya = unet_out(fresh, arch)
    assert not torch.allclose(base, via_diffusers)
    torch.testing.assert_close(via_kohya, via_diffusers, rtol=0, atol=1e-6)


def test_sgm_names_of_the_real_sdxl_unet():
    """Names as in kohya's own SDXL LoRA files (layers_per_block 2: three per level)."""
    attn = "transformer_blocks.0.attn1.to_q"
    assert _sgm_unet(f"down_blocks.1.attentions.0.{attn}", 2) == f"input_blocks.4.1.{attn}"
    assert _sgm_unet(f"down_blocks.2.attentions.1.{attn}", 2) == f"input_blocks.8.1.{attn}"
    assert _sgm_unet(f"mid_block.attentions.0.{attn}", 2) == f"middle_block.1.{attn}"
    assert _sgm_unet(f"up_blocks.0.attentions.2.{attn}", 2) == f"output_blocks.2.1.{attn}"
    assert _sgm_unet(f"up_blocks.1.attentions.0.{attn}", 2) == f"output_blocks.3.1.{attn}"
    with pytest.raises(ValueError, match="no SGM name"):
        _sgm_unet("conv_in", 2)


def test_text_encoder_keys_use_kohyas_prefixes():
    t = torch.zeros(4, 32)
    sd = {"text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_linear_layer.down"
          ".weight": t}
    assert set(kohya_state_dict(sd, "sd15", 4)) == {
        "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight",
        "lora_te_text_model_encoder_layers_0_self_attn_q_proj.alpha"}
    sd2 = {k.replace("text_encoder.", "text_encoder_2."): v for k, v in sd.items()}
    assert {k.split(".")[0] for k in kohya_state_dict({**sd, **sd2}, "sdxl", 4)} == {
        "lora_te1_text_model_encoder_layers_0_self_attn_q_proj",
        "lora_te2_text_model_encoder_layers_0_self_attn_q_proj"}
    with pytest.raises(ValueError, match="not a diffusers LoRA key"):
        kohya_state_dict({"unet.conv_in.weight": t}, "sd15", 4)
