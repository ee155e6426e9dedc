"""Checkpoints on disk: bounded in number, and a resume only continues the same run."""

from __future__ import annotations

import shutil

import pytest
import torch
from PIL import Image

from headshots.errors import ConfigError
from headshots.finetune import (
    LikenessScore,
    TrainConfig,
    load_base_model,
    model_fingerprint,
    train_lora,
)
from headshots.finetune._setup import add_adapters

FAST = dict(learning_rate=1e-2, validation_steps=2, validation_images=1, rank=4, alpha=8,
            resolution=64)


class KnownScores:
    """Scorer fake with known likeness per checkpoint (FaceLikenessScorer: test_likeness.py)."""

    def __init__(self, values):
        self.values = list(values)

    def score(self, images, references=None):
        return LikenessScore(likeness=self.values.pop(0), faces_found=1, images=1)


def _kept(run):
    return sorted(int(p.name.split("-")[1]) for p in (run / "train").glob("checkpoint-*"))


def test_old_checkpoints_are_pruned_but_the_best_so_far_is_kept(tmp_path, tiny, crops):
    cfg = TrainConfig(steps=10, checkpoint_every=2, keep_checkpoints=2, **FAST)
    run = tmp_path / "r"
    result = train_lora(crops, tiny["sd15"], run, cfg, device="cpu",
                        scorer=KnownScores([0.3, 0.9, 0.4, 0.5, 0.6]))
    assert _kept(run) == [4, 8, 10]  # the best (step 4) and the two latest
    assert result.report["chosen_checkpoint"] == 4
    assert not list((run / "train").glob("*.part"))
    run = tmp_path / "s"
    train_lora(crops, tiny["sd15"], run, cfg.model_copy(update={"keep_checkpoints": 1}),
               device="cpu")
    assert _kept(run) == [10]  # no likeness measured: the last is the best


def test_pruning_keeps_what_a_resume_needs(tmp_path, tiny, crops):
    cfg = TrainConfig(steps=8, checkpoint_every=2, keep_checkpoints=1, **FAST)
    run = tmp_path / "r"
    train_lora(crops, tiny["sd15"], run, cfg, device="cpu", stop_after=6,
               scorer=KnownScores([0.9, 0.1, 0.2]))
    assert _kept(run) == [2, 6]
    resumed = train_lora(crops, tiny["sd15"], run, cfg, device="cpu",
                         scorer=KnownScores([0.3]))
    assert resumed.report["resumed_from"] == 6 and resumed.report["chosen_checkpoint"] == 2
    assert _kept(run) == [2, 8]


def test_resume_refuses_a_different_base_model(tmp_path, tiny, crops):
    from headshots.testing.tiny_models import build_tiny_pipeline

    cfg = TrainConfig(steps=4, checkpoint_every=2, **FAST)
    train_lora(crops, tiny["sd15"], tmp_path / "r", cfg, device="cpu", stop_after=2)
    other = build_tiny_pipeline(tmp_path / "other", "sd15", seed=1)  # same layout, other weights
    with pytest.raises(ConfigError, match="trained on a different base model — use a new --out"):
        train_lora(crops, other, tmp_path / "r", cfg, device="cpu")
    assert model_fingerprint(load_base_model(other)) != model_fingerprint(
        load_base_model(tiny["sd15"]))
    assert train_lora(crops, tiny["sd15"], tmp_path / "r", cfg, device="cpu").finished


def test_resume_refuses_a_different_crop_set(tmp_path, tiny, crops):
    cfg = TrainConfig(steps=4, checkpoint_every=2, **FAST)
    mine = tmp_path / "crops"
    shutil.copytree(crops, mine)
    train_lora(mine, tiny["sd15"], tmp_path / "r", cfg, device="cpu", stop_after=2)
    first = sorted(mine.glob("*.png"))[0]
    with Image.open(first) as im:
        im.rotate(90).save(first)  # same names and count, one image changed
    with pytest.raises(ConfigError, match="different set of training crops"):
        train_lora(mine, tiny["sd15"], tmp_path / "r", cfg, device="cpu")
    fresh = train_lora(mine, tiny["sd15"], tmp_path / "r", cfg, device="cpu", resume=False)
    assert fresh.finished and fresh.report["resumed_from"] is None


def test_a_fingerprint_ignores_lora_layers_and_follows_the_weights(tiny):
    model = load_base_model(tiny["sd15"])
    before = model_fingerprint(model)
    add_adapters(model, TrainConfig(rank=4))
    assert model_fingerprint(model) == before  # peft's wrappers and LoRA weights left out
    with torch.no_grad():
        model.pipe.vae.decoder.conv_out.bias[0] += 1
    assert model_fingerprint(model) != before
