"""Tiny random SD1.5 / SDXL pipelines, built in code, offline, in seconds.

No pretrained diffusion weights exist on the machines this project is tested on, so the real
training and generation code runs on these: a UNet with (32, 64) blocks, a 4-block VAE with
8/8/16/16 channels (64 px images <-> 8x8 latents), 2-layer CLIP text encoders of width 32 and a
hand-written byte-level BPE vocabulary. Their output is noise; their code paths are the real ones.

    python -m headshots.testing.tiny_models OUT_DIR --arch sd15|sdxl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["build_tiny_pipeline", "write_tokenizer", "TINY_RESOLUTION"]

TINY_RESOLUTION = 64


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


def _text_config(vocab_size: int, eos: int, projection: bool):  # noqa: ANN202
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=32, intermediate_size=37, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=77, projection_dim=32,
        bos_token_id=eos - 1, eos_token_id=eos, pad_token_id=eos, hidden_act="gelu",
    )


def build_tiny_pipeline(out_dir: str | Path, arch: str = "sd15", seed: int = 0) -> Path:
    """Write a tiny random ``arch`` pipeline (``save_pretrained`` layout) to ``out_dir``."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    from headshots.errors import ConfigError

    if arch not in ("sd15", "sdxl"):
        raise ConfigError(f"arch must be 'sd15' or 'sdxl', got {arch!r}", "pass --arch sd15")
    out = Path(out_dir)
    tok_dir = write_tokenizer(out / "_tokenizer_src")
    tokenizer = CLIPTokenizer.from_pretrained(str(tok_dir), model_max_length=77)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    vocab_size = len(tokenizer)
    torch.manual_seed(seed)
    vae = AutoencoderKL(
        block_out_channels=(8, 8, 16, 16), in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4, norm_num_groups=4, layers_per_block=1, sample_size=TINY_RESOLUTION,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1,
        timestep_spacing="leading",
    )
    common = dict(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=TINY_RESOLUTION // 8,
        in_channels=4, out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), norm_num_groups=8,
    )
    pipe: Any
    if arch == "sd15":
        unet = UNet2DConditionModel(cross_attention_dim=32, attention_head_dim=8, **common)
        text_encoder = CLIPTextModel(_text_config(vocab_size, eos, False))
        pipe = StableDiffusionPipeline(
            vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
            scheduler=scheduler, safety_checker=None, feature_extractor=None,
            requires_safety_checker=False,
        )
    else:
        unet = UNet2DConditionModel(
            cross_attention_dim=64, attention_head_dim=(2, 4), use_linear_projection=True,
            addition_embed_type="text_time", addition_time_embed_dim=8,
            transformer_layers_per_block=(1, 1), projection_class_embeddings_input_dim=6 * 8 + 32,
            **common,
        )
        pipe = StableDiffusionXLPipeline(
            vae=vae, text_encoder=CLIPTextModel(_text_config(vocab_size, eos, False)),
            text_encoder_2=CLIPTextModelWithProjection(_text_config(vocab_size, eos, True)),
            tokenizer=tokenizer, tokenizer_2=tokenizer, unet=unet, scheduler=scheduler,
        )
    pipe.save_pretrained(str(out), safe_serialization=True)
    for sub in ("tokenizer", "tokenizer_2"):  # the loader reads our written vocab, not a hub copy
        if (out / sub).exists():
            write_tokenizer(out / sub)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--arch", choices=["sd15", "sdxl"], default="sd15")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = build_tiny_pipeline(args.out_dir, args.arch, args.seed)
    print(f"tiny {args.arch} pipeline written to {path}")


if __name__ == "__main__":
    main()
