"""A pipeline a worker keeps between orders takes each person's LoRA in place of the last one's
(peft hotswap): the UNet's modules stay the same objects (a compiled UNet is not recompiled), the
images equal a freshly loaded pipeline's, and after a stage nothing of the person is left in it."""

from __future__ import annotations

import numpy as np
import pytest

from headshots.generate import DiffusersGenerator, GenerateConfig
from tests.generate.conftest import make_requests


@pytest.fixture(scope="module")
def others(tmp_path_factory, tiny, crops):
    """A second person's LoRA per architecture, of another rank (the swap pads ranks)."""
    from headshots.finetune import TrainConfig, train_lora

    out = {}
    for arch in ("sd15", "sdxl"):
        out[arch] = run = tmp_path_factory.mktemp(f"lora-other-{arch}")
        train_lora(crops, tiny[arch], run,
                   TrainConfig(steps=3, learning_rate=2e-2, resolution=64, rank=8, alpha=8,
                               seed=7, checkpoint_every=3, validation_steps=1,
                               validation_images=1),
                   device="cpu")
    return out


def _modules(model) -> dict[str, int]:
    return {name: id(p) for name, p in model.pipe.unet.named_parameters()}


def _lora_weights(model) -> list:
    return [p for name, p in model.pipe.unet.named_parameters() if "lora_" in name]


def _close(a: np.ndarray, b: np.ndarray) -> bool:  # padding ranks reorders float sums only
    return int(np.abs(a.astype(int) - b.astype(int)).max()) <= 2


@pytest.mark.parametrize("arch", ["sd15", "sdxl"])
def test_a_kept_pipeline_swaps_each_persons_lora_in_place(tiny, loras, others, arch):
    from headshots.finetune import load_base_model

    other_lora = others[arch]
    req = make_requests(1, steps=2)

    def fresh(lora=None):
        return DiffusersGenerator(tiny[arch], lora=lora, device="cpu").generate(req)[0].pixels

    model = load_base_model(tiny[arch])  # as a GPU worker keeps it between orders
    first = DiffusersGenerator(model, lora=loras[arch], device="cpu", keep_pipeline=True)
    assert not first.swapped  # the first LoRA is loaded (prepared for swaps)
    modules = _modules(model)
    a = first.generate(req)[0].pixels
    first.release()
    weights = _lora_weights(model)
    assert weights and not any(p.any() for p in weights)  # nothing of the person is left

    second = DiffusersGenerator(model, lora=other_lora, device="cpu", keep_pipeline=True)
    assert second.swapped and _modules(model) == modules  # in place: same modules
    b = second.generate(req)[0].pixels
    second.release()
    assert _close(a, fresh(loras[arch])) and _close(b, fresh(other_lora))
    assert not _close(a, b)

    no_lora = DiffusersGenerator(model, device="cpu", keep_pipeline=True)
    assert _close(no_lora.generate(req)[0].pixels, fresh())  # the empty adapter adds nothing


def test_a_compiled_unet_is_made_once_while_loras_swap(tiny, loras, others):
    from headshots.finetune import load_base_model

    other_lora = others["sd15"]
    model = load_base_model(tiny["sd15"])
    config = GenerateConfig(compile_unet=True)
    one = DiffusersGenerator(model, lora=loras["sd15"], device="cpu", config=config,
                             keep_pipeline=True)
    one.release()
    two = DiffusersGenerator(model, lora=other_lora, device="cpu", config=config,
                             keep_pipeline=True)
    assert two.swapped and two.unet is one.unet
    two.release()
    # without a kept pipeline every generator compiles its own
    three = DiffusersGenerator(load_base_model(tiny["sd15"]), lora=other_lora, device="cpu",
                               config=config)
    assert three.unet is not one.unet
