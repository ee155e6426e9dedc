"""Random-weight SD1.5 / SDXL pipelines built in code, offline: tiny ones for fast tests and
real-size ones (the exact architectures) for slow smoke tests.

No pretrained diffusion weights exist on the machines this project is tested on, so the real
training and generation code runs on these. Both sizes mirror the real repositories'
component sets and config flags, so code that works here meets the same structure on a real
checkpoint:

- SD1.5 (runwayml/stable-diffusion-v1-5): UNet, VAE, CLIP-L text encoder, ``PNDMScheduler`` with
  the repository's scheduler config, a ``StableDiffusionSafetyChecker`` with its CLIP image
  processor (224 px), ``requires_safety_checker=True``.
- SDXL base (stabilityai/stable-diffusion-xl-base-1.0): two text encoders (the second with a
  projection), ``EulerDiscreteScheduler`` with the repository's config, a VAE with
  ``scaling_factor=0.13025`` and ``force_upcast=True``, ``force_zeros_for_empty_prompt=True``.

Tiny: a UNet with (32, 64) blocks, a 4-block VAE with 8/8/16/16 channels (64 px <-> 8x8 latents),
2-layer CLIP encoders of width 32 and a hand-written byte-level BPE vocabulary. Their output is
noise; their code paths are the real ones.

    python -m headshots.testing.tiny_models OUT_DIR --arch sd15|sdxl [--size tiny|full]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = [
    "FULL_RESOLUTION",
    "TINY_RESOLUTION",
    "build_tiny_pipeline",
    "random_pipeline",
    "write_tokenizer",
]

TINY_RESOLUTION = 64
FULL_RESOLUTION = {"sd15": 512, "sdxl": 1024}

# The repositories' scheduler configs (scheduler/scheduler_config.json).
SD15_SCHEDULER = dict(
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
    set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1, trained_betas=None,
)
SDXL_SCHEDULER = dict(
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
    interpolation_type="linear", prediction_type="epsilon", steps_offset=1,
    timestep_spacing="leading", trained_betas=None, use_karras_sigmas=False,
)
# SD1.5's feature_extractor/preprocessor_config.json (the safety checker's input).
CLIP_IMAGE_PROCESSOR: dict[str, Any] = dict(
    crop_size={"height": 224, "width": 224}, size={"shortest_edge": 224}, do_center_crop=True,
    do_convert_rgb=True, do_normalize=True, do_resize=True, resample=3,
    image_mean=[0.48145466, 0.4578275, 0.40821073], image_std=[0.26862954, 0.26130258, 0.27577711],
)
_TINY_TEXT: dict[str, Any] = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                                  num_attention_heads=4, projection_dim=32, hidden_act="gelu")
_CLIP_L: dict[str, Any] = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
               num_attention_heads=12, projection_dim=768, hidden_act="quick_gelu")
_CLIP_BIG_G: dict[str, Any] = dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32,
                   num_attention_heads=20, projection_dim=1280, hidden_act="gelu")
_TINY_VISION = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                    num_attention_heads=4, image_size=224, patch_size=14)
_VIT_L14 = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                num_attention_heads=16, image_size=224, patch_size=14)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte -> printable character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1)
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


def write_tokenizer(directory: Path) -> Path:
    """A byte-level BPE vocabulary CLIPTokenizer can load: every byte alone and word-final,
    a few merges for common letter pairs, and the two special tokens."""
    directory.mkdir(parents=True, exist_ok=True)
    chars = list(_bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars]
    merges = [("s", "k"), ("sk", "s</w>"), ("o", "n</w>"), ("t", "h"), ("e", "r</w>")]
    tokens += ["".join(m) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text(
        "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges)
    )
    (directory / "tokenizer_config.json").write_text(
        json.dumps({"model_max_length": 77, "tokenizer_class": "CLIPTokenizer"})
    )
    (directory / "special_tokens_map.json").write_text(
        json.dumps(
            {
                "bos_token": "<|startoftext|>",
                "eos_token": "<|endoftext|>",
                "unk_token": "<|endoftext|>",
                "pad_token": "<|endoftext|>",
            }
        )
    )
    return directory


def _text_config(dims: dict[str, Any], vocab_size: int, eos: int) -> Any:
    from transformers import CLIPTextConfig

    return CLIPTextConfig(vocab_size=vocab_size, max_position_embeddings=77,
                          bos_token_id=eos - 1, eos_token_id=eos, pad_token_id=eos, **dims)


def _unet(arch: str, size: str) -> Any:
    from diffusers import UNet2DConditionModel

    if size == "tiny":
        common: dict[str, Any] = dict(
            block_out_channels=(32, 64), layers_per_block=1, sample_size=TINY_RESOLUTION // 8,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), norm_num_groups=8,
        )
        if arch == "sd15":
            return UNet2DConditionModel(cross_attention_dim=32, attention_head_dim=8, **common)
        return UNet2DConditionModel(
            cross_attention_dim=64, attention_head_dim=(2, 4), use_linear_projection=True,
            addition_embed_type="text_time", addition_time_embed_dim=8,
            transformer_layers_per_block=(1, 1), projection_class_embeddings_input_dim=6 * 8 + 32,
            **common,
        )
    if arch == "sd15":  # runwayml/stable-diffusion-v1-5 unet/config.json (860 M parameters)
        return UNet2DConditionModel(
            sample_size=64, block_out_channels=(320, 640, 1280, 1280), layers_per_block=2,
            down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
            cross_attention_dim=768, attention_head_dim=8,
        )
    return UNet2DConditionModel(  # stable-diffusion-xl-base-1.0 unet/config.json (2.6 B)
        sample_size=128, block_out_channels=(320, 640, 1280), layers_per_block=2,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20),
        cross_attention_dim=2048, use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=256, projection_class_embeddings_input_dim=2816,
    )


def _vae(arch: str, size: str) -> Any:
    from diffusers import AutoencoderKL

    # SD1.5's VAE config has no force_upcast key (diffusers' default True; its pipeline never
    # reads it); SDXL's says True explicitly and its pipeline upcasts an fp16 VAE to decode
    flags: dict[str, Any] = ({"scaling_factor": 0.18215} if arch == "sd15"
                             else {"scaling_factor": 0.13025, "force_upcast": True})
    if size == "tiny":
        dims: dict[str, Any] = dict(block_out_channels=(8, 8, 16, 16), norm_num_groups=4,
                                    layers_per_block=1, sample_size=TINY_RESOLUTION)
    else:
        dims = dict(block_out_channels=(128, 256, 512, 512), norm_num_groups=32,
                    layers_per_block=2, sample_size=FULL_RESOLUTION[arch])
    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        **dims, **flags,
    )


def _safety(size: str, projection: int) -> tuple[Any, Any]:
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    vision = _TINY_VISION if size == "tiny" else _VIT_L14
    text = _TINY_TEXT if size == "tiny" else _CLIP_L
    config = CLIPConfig(text_config=dict(text, max_position_embeddings=77),
                        vision_config=vision, projection_dim=projection)
    return StableDiffusionSafetyChecker(config), CLIPImageProcessor(**CLIP_IMAGE_PROCESSOR)


def random_pipeline(arch: str = "sd15", size: str = "tiny", seed: int = 0,
                    tokenizer_dir: Path | None = None) -> Any:
    """A random-weight ``arch`` pipeline of ``size`` 'tiny' or 'full' (in memory).

    'full' is the exact SD1.5 (860 M UNet, 84 M VAE, CLIP-L, ViT-L/14 safety checker) or SDXL
    base (2.6 B UNet, CLIP-L + bigG) architecture: ~5 GB (SD1.5) or ~14 GB (SDXL) of fp32
    weights in RAM."""
    import tempfile

    import torch
    from diffusers import (
        EulerDiscreteScheduler,
        PNDMScheduler,
        StableDiffusionPipeline,
        StableDiffusionXLPipeline,
    )
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    from headshots.errors import ConfigError

    if arch not in ("sd15", "sdxl"):
        raise ConfigError(f"arch must be 'sd15' or 'sdxl', got {arch!r}", "pass --arch sd15")
    if size not in ("tiny", "full"):
        raise ConfigError(f"size must be 'tiny' or 'full', got {size!r}", "pass --size tiny")
    with tempfile.TemporaryDirectory() as tmp:
        tok_dir = write_tokenizer(tokenizer_dir or Path(tmp) / "tokenizer")
        tokenizer = CLIPTokenizer.from_pretrained(str(tok_dir), model_max_length=77)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    vocab = len(tokenizer) if size == "tiny" else 49408
    torch.manual_seed(seed)
    vae, unet = _vae(arch, size), _unet(arch, size)
    if arch == "sd15":
        text = _TINY_TEXT if size == "tiny" else _CLIP_L
        checker, extractor = _safety(size, text["projection_dim"])
        return StableDiffusionPipeline(
            vae=vae, text_encoder=CLIPTextModel(_text_config(text, vocab, eos)),
            tokenizer=tokenizer, unet=unet, scheduler=PNDMScheduler(**SD15_SCHEDULER),
            safety_checker=checker, feature_extractor=extractor, requires_safety_checker=True,
        )
    first, second = (_TINY_TEXT, _TINY_TEXT) if size == "tiny" else (_CLIP_L, _CLIP_BIG_G)
    return StableDiffusionXLPipeline(
        vae=vae, text_encoder=CLIPTextModel(_text_config(first, vocab, eos)),
        text_encoder_2=CLIPTextModelWithProjection(_text_config(second, vocab, eos)),
        tokenizer=tokenizer, tokenizer_2=tokenizer, unet=unet,
        scheduler=EulerDiscreteScheduler(**SDXL_SCHEDULER), force_zeros_for_empty_prompt=True,
    )


def build_tiny_pipeline(out_dir: str | Path, arch: str = "sd15", seed: int = 0,
                        size: str = "tiny") -> Path:
    """Write a random ``arch`` pipeline (``save_pretrained`` layout) to ``out_dir``."""
    out = Path(out_dir)
    pipe = random_pipeline(arch, size, seed)
    pipe.save_pretrained(str(out), safe_serialization=True)
    for sub in ("tokenizer", "tokenizer_2"):  # the loader reads our written vocab, not a hub copy
        if (out / sub).exists():
            write_tokenizer(out / sub)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--arch", choices=["sd15", "sdxl"], default="sd15")
    parser.add_argument("--size", choices=["tiny", "full"], default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = build_tiny_pipeline(args.out_dir, args.arch, args.seed, args.size)
    print(f"{args.size} random {args.arch} pipeline written to {path}")


if __name__ == "__main__":
    main()
