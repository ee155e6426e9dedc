"""How checkpoints are judged: styled prompts from generate's catalog, held-out selfies."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from headshots.errors import ConfigError
from headshots.finetune import LikenessScore, TrainConfig, train_lora
from headshots.finetune._validation import split_holdout, validation_prompts
from headshots.generate import Identity, builtin_styles

FAST = dict(learning_rate=1e-2, checkpoint_every=2, validation_steps=2, rank=4, alpha=8,
            resolution=64)


class RecordingScorer:
    """Scorer fake that keeps what it was given (FaceLikenessScorer is tested on real photos
    in test_likeness.py)."""

    def __init__(self):
        self.calls = []

    def score(self, images, references=None):
        self.calls.append(([im.copy() for im in images], [r.copy() for r in references]))
        return LikenessScore(likeness=0.5, faces_found=len(images), images=len(images))


def _pixels(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_checkpoints_are_judged_on_styled_prompts_against_held_out_selfies(
        tmp_path, tiny, crops, monkeypatch):
    from diffusers import StableDiffusionPipeline

    prompts_seen = []
    real_call = StableDiffusionPipeline.__call__

    def spy(self, *args, **kwargs):
        prompts_seen.append((kwargs["prompt"], kwargs.get("negative_prompt")))
        return real_call(self, *args, **kwargs)

    monkeypatch.setattr(StableDiffusionPipeline, "__call__", spy)
    cfg = TrainConfig(steps=4, **FAST, validation_images=2, holdout=1, holdout_min_photos=4,
                      min_photos=3, validation_styles=("navy-blazer", "black-and-white"),
                      class_word="woman")
    scorer = RecordingScorer()
    result = train_lora(crops, tiny["sd15"], tmp_path / "r", cfg, device="cpu", scorer=scorer)

    styles = builtin_styles()
    who = Identity(token="sks", class_word="woman")
    wanted = [(styles[s].prompt(who), styles[s].negative_prompt)
              for s in ("navy-blazer", "black-and-white")]
    assert prompts_seen == wanted * 2  # two checkpoints, one portrait per style each
    assert "navy" in wanted[0][0] and "sks woman" in wanted[0][0]
    files = sorted(crops.glob("*.png"))
    held = [_pixels(f) for f in files][2]  # 4 photos, 1 held out: the one in the middle
    assert len(scorer.calls) == 2
    for images, references in scorer.calls:
        assert len(images) == 2 and images[0].shape == (64, 64, 3)
        assert len(references) == 1 and np.array_equal(references[0], held)
    v = result.report["validation"]
    assert v["references"] == "held_out" and v["held_out"] == [2] and v["photos_trained"] == 3
    assert v["prompts"] == [p for p, _ in wanted]


def test_small_sets_are_judged_against_their_training_crops(tmp_path, tiny, crops):
    scorer = RecordingScorer()
    result = train_lora(crops, tiny["sd15"], tmp_path / "r", TrainConfig(steps=2, **FAST,
                        validation_images=1), device="cpu", scorer=scorer)
    (_, references), = scorer.calls
    assert len(references) == 4  # default holdout needs 10 photos
    assert result.report["validation"]["references"] == "training_crops"


def test_holdout_split_rules():
    cfg = TrainConfig()
    assert split_holdout(9, cfg) == (list(range(9)), [])
    trained, held = split_holdout(10, cfg)
    assert held == [2, 7] and len(trained) == 8 and not set(trained) & set(held)
    assert split_holdout(20, cfg)[1] == [5, 15]
    assert split_holdout(20, TrainConfig(holdout=0))[1] == []
    assert split_holdout(5, TrainConfig(holdout=2, holdout_min_photos=5, min_photos=4))[1] == []


def test_validation_styles_are_checked_before_training(tmp_path, tiny, crops):
    with pytest.raises(ConfigError, match="unknown style.*no-such-style"):
        train_lora(crops, tiny["sd15"], tmp_path / "r",
                   TrainConfig(steps=2, **FAST, validation_styles=("no-such-style",)),
                   device="cpu")
    assert not (tmp_path / "r" / "train").exists()
    prompts = validation_prompts(TrainConfig(validation_images=4))
    assert len(prompts) == 4 and prompts[3] == prompts[0] and prompts[0] != prompts[1]


@pytest.mark.parametrize("template, instance, klass", [
    ("a photo of {token} {class_word}", "a photo of sks woman", "a photo of woman"),
    ("{class_word} {token}", "woman sks", "woman"),
    ("portrait of {token}, a {class_word}", "portrait of sks, a woman", "portrait of a woman"),
    ("{token}: {class_word} in a studio", "sks: woman in a studio", "woman in a studio"),
])
def test_class_prompt_drops_the_token_wherever_it_stands(template, instance, klass):
    cfg = TrainConfig(prompt_template=template, class_word="woman")
    assert cfg.instance_prompt() == instance and cfg.class_prompt() == klass


@pytest.mark.parametrize("template, message", [
    ("a photo of a {class_word}", "must contain {token}"),
    ("{token} {name}", "only use {token} and {class_word}"),
    ("{token", "malformed"),
])
def test_bad_prompt_templates_are_refused(template, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        TrainConfig(prompt_template=template)
