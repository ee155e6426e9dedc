"""The diffusers generator on tiny random pipelines, streaming, resume, early rejection."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from headshots.generate import (
    DiffusersGenerator,
    Identity,
    ReplayGenerator,
    builtin_styles,
    face_early_check,
    generate_candidates,
    pick_styles,
    plan_requests,
)
from headshots.types import Reason
from tests.conftest import DATA


def _requests(n=4, styles="corporate-grey,navy-blazer"):
    return plan_requests(pick_styles(builtin_styles(), styles), Identity(), n, size=(64, 64),
                         steps=4)


@pytest.mark.parametrize("arch", ["sd15", "sdxl"])
def test_generates_reproducible_candidates_with_seeds(tmp_path, tiny, arch):
    gen = DiffusersGenerator(tiny[arch], device="cpu")
    reqs = _requests(4)
    cands, records = generate_candidates(gen, reqs, tmp_path / "c", batch_size=2)
    assert [c.seed for c in sorted(cands, key=lambda c: c.seed)] == [0, 1, 2, 3]
    lines = [json.loads(x) for x in (tmp_path / "c" / "index.jsonl").read_text().splitlines()]
    assert {x["id"] for x in lines} == {r.id for r in reqs}
    assert all(x["settings"]["unet_evals"] == 8 for x in lines)  # 4 steps x 2 (guidance)
    for c in cands:
        with Image.open(c.path) as im:
            assert im.size == (64, 64) and not im.info.get("exif")
        assert "sks person" in c.prompt and c.style in ("corporate-grey", "navy-blazer")
    # one candidate made again on its own matches its batch-mate
    again = gen.generate([reqs[2]])[0].pixels
    with Image.open(next(c.path for c in cands if c.seed == 2)) as im:
        diff = np.abs(np.asarray(im).astype(int) - again.astype(int)).max()
    assert diff <= 2


def test_lora_changes_the_output(tiny, loras):
    req = _requests(1)
    plain = DiffusersGenerator(tiny["sd15"], device="cpu").generate(req)[0].pixels
    person = DiffusersGenerator(tiny["sd15"], lora=loras["sd15"], device="cpu").generate(req)
    assert np.abs(plain.astype(int) - person[0].pixels.astype(int)).max() > 0


def test_early_rejection_saves_unet_work_and_keeps_survivors_identical(tiny):
    gen = DiffusersGenerator(tiny["sd15"], device="cpu")
    reqs = _requests(4, "corporate-grey")
    full = gen.generate(reqs)
    seen = []

    def reject_odd(image):  # a check fake: rejects every second preview it sees
        seen.append(image.shape)
        return Reason.NO_FACE if len(seen) % 2 == 0 else None

    gen.early_check, gen.early_at = reject_odd, 0.5
    early = gen.generate(reqs)
    assert seen and seen[0] == (32, 32, 3)  # a half-size preview
    assert [g.pixels is None for g in early] == [False, True, False, True]
    assert early[1].info == {"unet_evals": 4, "early_rejected": "no_face",
                             "early_rejected_at_step": 2}
    for a, b in zip(full, early, strict=True):
        if b.pixels is not None:
            assert np.array_equal(a.pixels, b.pixels)  # survivors are untouched by the check
            assert b.info["unet_evals"] == 8
    assert sum(g.info["unet_evals"] for g in early) < sum(g.info["unet_evals"] for g in full)


def test_real_early_check_passes_a_face_and_fails_noise(backend, photos):
    check = face_early_check(backend)
    assert check(photos["obama"]) is None
    noise = np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    assert check(noise) is Reason.NO_FACE
    h = min(photos["obama3"].shape[0], photos["biden"].shape[0])
    assert check(np.hstack([photos["obama3"][:h], photos["biden"][:h]])) is Reason.MULTIPLE_FACES


def test_replay_generator_serves_real_photos(tmp_path):
    files = sorted(DATA.glob("obama*.jpg"))
    gen = ReplayGenerator(files)
    cands, records = generate_candidates(gen, _requests(5), tmp_path / "c")
    assert len(cands) == 5 and records[3]["settings"]["replay_of"] == files[0].name


def test_a_cached_base_pipeline_never_keeps_the_previous_lora(tiny, loras):
    from headshots.finetune import load_base_model

    req = _requests(1)
    plain = DiffusersGenerator(tiny["sd15"], device="cpu").generate(req)[0].pixels
    model = load_base_model(tiny["sd15"])  # as a GPU worker keeps it between orders
    first = DiffusersGenerator(model, lora=loras["sd15"], device="cpu").generate(req)[0].pixels
    again = DiffusersGenerator(model, lora=loras["sd15"], device="cpu").generate(req)[0].pixels
    assert np.array_equal(first, again)  # swapping in a LoRA again works
    after = DiffusersGenerator(model, device="cpu").generate(req)[0].pixels
    assert np.array_equal(after, plain) and not np.array_equal(first, plain)


def test_loading_and_generating_print_nothing(tiny, loras, capsys):
    gen = DiffusersGenerator(tiny["sd15"], lora=loras["sd15"], device="cpu")
    gen.generate(_requests(1))
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""  # no loading bars, no library warnings
