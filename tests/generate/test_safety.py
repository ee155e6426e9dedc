"""The SD1.5 safety checker: run on every finished image by default (flagged ones are
recorded as `nsfw`, no file kept), or dropped by a setting and then never used."""

from __future__ import annotations

import json

import pytest

from headshots.finetune import load_base_model
from headshots.generate import DiffusersGenerator, GenerateConfig, generate_candidates
from headshots.types import Reason
from tests.generate.conftest import make_requests


def _spy(checker):
    calls = []
    forward = checker.forward
    checker.forward = lambda *a, **k: calls.append(len(k["images"])) or forward(*a, **k)
    return calls


def _flag_everything(checker):
    """Thresholds below any cosine similarity: the real checker code must flag every image."""
    checker.concept_embeds_weights.data.fill_(-2.0)


def test_checker_runs_on_every_batch_and_keeps_clean_images(tiny):
    model = load_base_model(tiny["sd15"])
    calls = _spy(model.pipe.safety_checker)
    gen = DiffusersGenerator(model, device="cpu")
    out = gen.generate(make_requests(3))
    assert calls == [3]  # once per batch, on the images that finished
    assert all(g.pixels is not None for g in out)  # the random checker flags nothing
    assert gen.fingerprint()["safety_checker"] is True


def test_flagged_images_are_recorded_not_kept_and_counted_by_the_judge(tmp_path, tiny):
    from headshots.cli._judge import early_rejections

    model = load_base_model(tiny["sd15"])
    _flag_everything(model.pipe.safety_checker)
    gen = DiffusersGenerator(model, device="cpu", early_check=lambda image: None)
    cands, records = generate_candidates(gen, make_requests(2, steps=4), tmp_path / "c")
    assert cands == [] and not list((tmp_path / "c").rglob("*.png"))
    for r in records:
        assert r["file"] == ""
        assert r["settings"] == {"steps": 4, "guidance": r["settings"]["guidance"], "width": 64,
                                 "height": 64, "unet_evals": 8, "early_rejected": "nsfw",
                                 "early_rejected_at_step": 4}
    # the judge's report and summary pick them up like any early rejection
    found = early_rejections(tmp_path / "c")
    assert [e["settings"]["early_rejected"] for e in found] == ["nsfw", "nsfw"]
    assert "safety checker" in Reason("nsfw").explanation
    lines = (tmp_path / "c" / "index.jsonl").read_text().splitlines()
    assert all(json.loads(x)["made_with"]["safety_checker"] is True for x in lines)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_checker_flags_in_half_precision_too(tiny, precision):
    model = load_base_model(tiny["sd15"])
    _flag_everything(model.pipe.safety_checker)
    gen = DiffusersGenerator(model, device="cpu", config=GenerateConfig(precision=precision))
    assert [g.info.get("early_rejected") for g in gen.generate(make_requests(2))] == ["nsfw"] * 2


def test_turned_off_checker_is_dropped_and_never_called(tiny):
    model = load_base_model(tiny["sd15"])
    checker = model.pipe.safety_checker
    _flag_everything(checker)
    calls = _spy(checker)
    gen = DiffusersGenerator(model, device="cpu", config=GenerateConfig(safety_checker=False))
    assert gen.safety is None and model.pipe.safety_checker is None  # not carried, not moved
    assert tuple(model.pipe.config.safety_checker) == (None, None)
    out = gen.generate(make_requests(2))
    assert calls == [] and all(g.pixels is not None for g in out)
    assert gen.fingerprint()["safety_checker"] is False


def test_checker_warning_stays_off_the_terminal(tiny):
    import logging

    seen = []

    class Catch(logging.Handler):  # diffusers' own stderr handler sits on this logger too
        def emit(self, record):
            seen.append(record.getMessage())

    model = load_base_model(tiny["sd15"])
    _flag_everything(model.pipe.safety_checker)
    catch, root = Catch(), logging.getLogger("diffusers")
    level = root.level
    root.addHandler(catch)
    try:
        DiffusersGenerator(model, device="cpu").generate(make_requests(1))
    finally:
        root.removeHandler(catch)
    assert not [m for m in seen if "NSFW" in m]
    assert root.level == level  # quiet only while the checker runs


def test_a_checker_without_its_image_processor_is_a_clear_error(tiny):
    from headshots.errors import BaseModelError

    model = load_base_model(tiny["sd15"])
    model.pipe.register_modules(feature_extractor=None)
    with pytest.raises(BaseModelError, match="no feature_extractor.*safety checker off"):
        DiffusersGenerator(model, device="cpu")
    DiffusersGenerator(model, device="cpu", config=GenerateConfig(safety_checker=False))
