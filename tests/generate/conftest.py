"""Fixtures for the generator tests: a trained LoRA per tiny architecture, requests."""

from __future__ import annotations

import pytest

from headshots.generate import Identity, builtin_styles, pick_styles, plan_requests


@pytest.fixture(scope="session")
def loras(tmp_path_factory, tiny, crops):
    """A 4-step LoRA per architecture, trained on real crops (its effect on pixels is real)."""
    from headshots.finetune import TrainConfig, train_lora

    out = {}
    for arch in ("sd15", "sdxl"):
        run = tmp_path_factory.mktemp(f"lora-{arch}")
        train_lora(crops, tiny[arch], run,
                   TrainConfig(steps=4, learning_rate=1e-2, resolution=64, rank=4, alpha=4,
                               checkpoint_every=4, validation_steps=1, validation_images=1),
                   device="cpu")
        out[arch] = run
    return out


def make_requests(n=4, styles="corporate-grey,navy-blazer", steps=4):
    return plan_requests(pick_styles(builtin_styles(), styles), Identity(), n, size=(64, 64),
                         steps=steps)
