"""One fixed UNet evaluation of a tiny pipeline: compares weights through their output."""

from __future__ import annotations

import torch


def unet_out(pipe, arch):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 4, 8, 8, generator=g)
    emb = torch.randn(1, 77, 32 if arch == "sd15" else 64, generator=g)
    kwargs = {}
    if arch == "sdxl":
        kwargs["added_cond_kwargs"] = {"text_embeds": torch.randn(1, 32, generator=g),
                                       "time_ids": torch.tensor([[64, 64, 0, 0, 64, 64.0]])}
    with torch.no_grad():
        return pipe.unet(x, torch.tensor([500]), encoder_hidden_states=emb, **kwargs).sample
