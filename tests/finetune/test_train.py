"""The trainer on tiny random SD1.5 and SDXL pipelines (64 px, 8x8 latents)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from headshots.errors import BaseModelError, ConfigError, PhotoSetError
from headshots.finetune import (
    LORA_NAME,
    LikenessScore,
    TrainConfig,
    load_base_model,
    resolve_device,
    train_lora,
)
from tests.finetune._unet import unet_out

FAST = dict(learning_rate=1e-2, checkpoint_every=10, validation_steps=2, validation_images=1,
            rank=4, alpha=8, resolution=64)


@pytest.mark.parametrize("arch", ["sd15", "sdxl"])
def test_learns_and_the_saved_lora_reloads_identically(tmp_path, tiny, crops, arch):
    from diffusers import DiffusionPipeline

    model = load_base_model(tiny[arch])
    result = train_lora(crops, model, tmp_path / "run", TrainConfig(steps=20, **FAST),
                        device="cpu")
    report = result.report
    assert result.finished and result.lora and result.lora.exists()
    evals = [e["loss"] for e in report["eval_loss"]]
    assert evals[-1] < evals[0] * 0.97, evals  # the fixed evaluation batch's loss goes down
    assert len(report["loss"]) == 20
    trained = unet_out(model.pipe, arch)
    fresh = DiffusionPipeline.from_pretrained(str(tiny[arch]))
    before = unet_out(fresh, arch)
    fresh.load_lora_weights(str(result.lora.parent), weight_name=LORA_NAME)
    after = unet_out(fresh, arch)
    assert not torch.equal(before, after)
    assert torch.equal(trained, after)  # bit-identical
    saved = json.loads((tmp_path / "run" / "train" / "train_report.json").read_text())
    assert saved["chosen_checkpoint"] == 20 and "no face" in saved["chosen_because"]
    assert (tmp_path / "run" / "train" / "training.png").stat().st_size > 5000


def test_resume_equals_an_uninterrupted_run(tmp_path, tiny, crops):
    cfg = TrainConfig(steps=20, **FAST)
    full = train_lora(crops, tiny["sd15"], tmp_path / "a", cfg, device="cpu")
    part = train_lora(crops, tiny["sd15"], tmp_path / "b", cfg, device="cpu", stop_after=10)
    assert not part.finished and part.lora is None
    assert (tmp_path / "b" / "train" / "checkpoint-000010").is_dir()
    resumed = train_lora(crops, tiny["sd15"], tmp_path / "b", cfg, device="cpu")
    assert resumed.report["resumed_from"] == 10
    assert resumed.report["loss"] == pytest.approx(full.report["loss"], abs=0)
    a, b = load_file(str(full.lora)), load_file(str(resumed.lora))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_cached_latents_equal_uncached(tmp_path, tiny, crops):
    cfg = TrainConfig(steps=6, **{**FAST, "learning_rate": 1e-3})
    cached = train_lora(crops, tiny["sd15"], tmp_path / "c", cfg, device="cpu")
    plain = train_lora(crops, tiny["sd15"], tmp_path / "u",
                       cfg.model_copy(update={"cache_latents": False}), device="cpu")
    np.testing.assert_allclose(cached.report["loss"], plain.report["loss"], rtol=1e-4)
    a, b = load_file(str(cached.lora)), load_file(str(plain.lora))
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-3, atol=1e-4)


class KnownScores:
    """Scorer fake with known likeness per checkpoint (the real FaceLikenessScorer is tested
    on real photos in test_likeness.py)."""

    def __init__(self, values):
        self.values = list(values)

    def score(self, images, references=None):
        assert len(images) == 1 and images[0].shape == (64, 64, 3)
        assert references is not None and len(references) == 4  # too few to hold any out
        return LikenessScore(likeness=self.values.pop(0), faces_found=1, images=1)


def test_picks_the_checkpoint_with_the_best_likeness(tmp_path, tiny, crops):
    cfg = TrainConfig(steps=8, **{**FAST, "checkpoint_every": 2})
    result = train_lora(crops, tiny["sd15"], tmp_path / "r", cfg, device="cpu",
                        scorer=KnownScores([0.40, 0.71, 0.55, 0.71]))
    assert [c["likeness"] for c in result.report["checkpoints"]] == [0.40, 0.71, 0.55, 0.71]
    assert result.report["chosen_checkpoint"] == 8  # tie with step 4: the later one
    chosen = load_file(str(tmp_path / "r" / "train" / "checkpoint-000008" / LORA_NAME))
    final = load_file(str(result.lora))
    assert all(torch.equal(chosen[k], final[k]) for k in final)
    result = train_lora(crops, tiny["sd15"], tmp_path / "s", cfg, device="cpu",
                        scorer=KnownScores([0.40, 0.81, 0.55, None]))
    assert result.report["chosen_checkpoint"] == 4


def test_all_options_run_on_sdxl(tmp_path, tiny, crops):
    cfg = TrainConfig(steps=2, **{**FAST, "checkpoint_every": 2}, prior_preservation=True,
                      num_class_images=2, snr_gamma=5.0, gradient_accumulation=2,
                      lr_schedule="cosine", warmup_steps=1)
    result = train_lora(crops, tiny["sdxl"], tmp_path / "x", cfg, device="cpu")
    assert result.finished and len(result.report["loss"]) == 2
    assert all(k.startswith("unet.") for k in load_file(str(result.lora)))
    assert len(list((tmp_path / "x" / "train" / "class_images").glob("*.png"))) == 2


def test_text_encoder_lora_needs_a_newer_peft(tmp_path, tiny, crops):
    from importlib.metadata import version

    if tuple(int(x) for x in version("peft").split(".")[:2]) >= (0, 22):
        pytest.skip("peft >= 0.22 installed")
    with pytest.raises(ConfigError, match="peft >= 0.22"):
        train_lora(crops, tiny["sd15"], tmp_path / "t",
                   TrainConfig(steps=2, train_text_encoder=True, **FAST), device="cpu")


def test_changed_settings_refuse_to_resume(tmp_path, tiny, crops):
    cfg = TrainConfig(steps=4, **{**FAST, "checkpoint_every": 2})
    train_lora(crops, tiny["sd15"], tmp_path / "r", cfg, device="cpu", stop_after=2)
    with pytest.raises(ConfigError, match="other settings.*rank"):
        train_lora(crops, tiny["sd15"], tmp_path / "r", cfg.model_copy(update={"rank": 8}),
                   device="cpu")
    fresh = train_lora(crops, tiny["sd15"], tmp_path / "r", cfg.model_copy(update={"rank": 8}),
                       device="cpu", resume=False)
    assert fresh.finished and fresh.report["resumed_from"] is None


def test_clear_errors(tmp_path, tiny, crops):
    with pytest.raises(BaseModelError, match="does not exist"):
        load_base_model(tmp_path / "missing")
    other = tmp_path / "flux"
    other.mkdir()
    (other / "model_index.json").write_text('{"_class_name": "FluxPipeline"}')
    with pytest.raises(BaseModelError, match="FluxPipeline, not supported") as info:
        load_base_model(other)
    assert "SDXL" in info.value.fix
    with pytest.raises(PhotoSetError, match="at least 4"):
        train_lora(tmp_path, tiny["sd15"], tmp_path / "r", TrainConfig(steps=2), device="cpu")
    with pytest.raises(ConfigError, match="holds no checkpoint"):
        train_lora(crops, tiny["sd15"], tmp_path / "r2", TrainConfig(steps=2, resolution=64),
                   device="cpu", resume=True)
    with pytest.raises(ConfigError, match=r"4 of 4 images .* smaller \(64 px\) than the "
                       r"training size of 512 px — prepare the crops at 512 px"):
        train_lora(crops, tiny["sd15"], tmp_path / "r3", TrainConfig(steps=2), device="cpu")


def test_device_rules():
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="--device cpu"):
            resolve_device("auto", 860_000_000, 512)
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            resolve_device("cuda", 1000, 64)
        assert resolve_device("auto", 1_000_000, 64).type == "cpu"
    assert resolve_device("cpu", 860_000_000, 512).type == "cpu"
    with pytest.raises(ConfigError, match="auto, cpu or cuda"):
        resolve_device("tpu", 1, 64)


def test_steps_scale_with_photos():
    cfg = TrainConfig()
    assert cfg.total_steps(3) == 400 and cfg.total_steps(10) == 1000
    assert cfg.total_steps(40) == 1500 and TrainConfig(steps=7).total_steps(40) == 7
    assert TrainConfig(class_word="woman").instance_prompt() == "a photo of sks woman"
    assert TrainConfig(class_word="woman").class_prompt() == "a photo of woman"


@pytest.mark.gpu
def test_sd15_trains_in_mixed_precision_on_gpu(tmp_path, tiny, crops):
    result = train_lora(crops, tiny["sd15"], tmp_path / "g",
                        TrainConfig(steps=4, mixed_precision="fp16", gradient_checkpointing=True,
                                    **FAST), device="cuda")
    assert result.finished
