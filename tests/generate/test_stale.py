"""Stale candidates: a folder made with another LoRA, model or settings is refused (or, when
asked, refreshed) instead of mixing old images into a new run; resuming still works."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from headshots.errors import NotFoundError, StaleCandidatesError
from headshots.generate import (
    DiffusersGenerator,
    GenerateConfig,
    base_model_identity,
    check_candidates,
    diffusers_fingerprint,
    generate_candidates,
    read_index,
)
from tests.generate.conftest import make_requests


def _pixels(path):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im).copy()


def test_a_new_lora_is_refused_then_refreshed(tmp_path, tiny, loras):
    out = tmp_path / "c"
    reqs = make_requests(2)
    before, _ = generate_candidates(DiffusersGenerator(tiny["sd15"], device="cpu"), reqs, out)
    old = {c.id: _pixels(c.path) for c in before}
    index_before = (out / "index.jsonl").read_text()
    with_lora = DiffusersGenerator(tiny["sd15"], lora=loras["sd15"], device="cpu")
    with pytest.raises(StaleCandidatesError, match=r"holds 2 candidates made differently "
                       r"\(LoRA\) — pass --refresh") as err:
        generate_candidates(with_lora, reqs, out)
    assert err.value.exit_code == 2
    assert (out / "index.jsonl").read_text() == index_before  # nothing touched
    after, records = generate_candidates(with_lora, reqs, out, refresh=True)
    assert len(after) == 2 and len(read_index(out / "index.jsonl")) == 2
    assert all(r["made_with"]["lora"] for r in records)
    assert any(np.abs(_pixels(c.path).astype(int) - old[c.id].astype(int)).max() > 2
               for c in after)


def test_other_settings_for_the_same_ids_are_stale(tmp_path, tiny):
    gen = DiffusersGenerator(tiny["sd15"], device="cpu")
    out = tmp_path / "c"
    generate_candidates(gen, make_requests(2, steps=4), out)
    with pytest.raises(StaleCandidatesError, match="steps 4 → 3"):
        generate_candidates(gen, make_requests(2, steps=3), out)
    custom = [r.__class__(**{**r.__dict__, "prompt": r.prompt + ", smiling"})
              for r in make_requests(2, steps=4)]
    with pytest.raises(StaleCandidatesError, match=r"\(prompt\)") as err:
        generate_candidates(gen, custom, out)
    assert "smiling" not in str(err.value)  # prompts are named, never quoted


def test_refresh_remakes_only_the_stale_ones(tmp_path, tiny):
    gen = DiffusersGenerator(tiny["sd15"], device="cpu")
    out = tmp_path / "c"
    generate_candidates(gen, make_requests(4), out)
    records = read_index(out / "index.jsonl")
    records[1]["settings"]["steps"] = 7  # as if made with another step count
    (out / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    made = []
    original = gen.generate
    gen.generate = lambda rs: made.extend(r.id for r in rs) or original(rs)  # type: ignore
    cands, _ = generate_candidates(gen, make_requests(4), out, refresh=True)
    assert made == [records[1]["id"]] and len(cands) == 4
    assert len(read_index(out / "index.jsonl")) == 4


def test_more_candidates_with_the_same_settings_are_added(tmp_path, tiny):
    gen = DiffusersGenerator(tiny["sd15"], device="cpu")
    generate_candidates(gen, make_requests(2), tmp_path / "c")
    cands, _ = generate_candidates(gen, make_requests(4), tmp_path / "c")
    assert len(cands) == 4


def test_precision_safety_and_early_rejection_are_part_of_the_fingerprint(tmp_path, tiny):
    gen = DiffusersGenerator(tiny["sd15"], device="cpu")
    out = tmp_path / "c"
    generate_candidates(gen, make_requests(1), out)
    made = gen.fingerprint()
    check_candidates(out, made)  # the same: fine
    for change, shown in [({"precision": "bf16"}, "precision fp32 → bf16"),
                          ({"safety_checker": False}, "safety checker on → off"),
                          ({"early_rejection_at": 0.4}, "early rejection off → 0.4"),
                          ({"base_model": "other"}, "base model")]:
        with pytest.raises(StaleCandidatesError, match=shown):
            check_candidates(out, {**made, **change})
    # what the CLI computes before loading equals what the loaded generator reports
    assert diffusers_fingerprint(tiny["sd15"], None, GenerateConfig(), "fp32",
                                 early=False) == made


def test_an_index_from_before_fingerprints_is_stale(tmp_path, tiny):
    gen = DiffusersGenerator(tiny["sd15"], device="cpu")
    out = tmp_path / "c"
    out.mkdir()
    (out / "index.jsonl").write_text(json.dumps({
        "id": "corporate-grey-0", "file": "", "style": "corporate-grey", "seed": 0,
        "prompt": "p", "negative_prompt": "", "settings": {}}) + "\n")
    with pytest.raises(StaleCandidatesError, match="made before settings were recorded"):
        generate_candidates(gen, make_requests(1), out)


def test_killed_run_resumes_and_cuts_the_torn_line(tmp_path, tiny):
    gen = DiffusersGenerator(tiny["sd15"], device="cpu")
    reqs = make_requests(4)
    generate_candidates(gen, reqs[:2], tmp_path / "c")
    with (tmp_path / "c" / "index.jsonl").open("a") as f:
        f.write('{"id": "torn')  # a crash mid-line
    calls = []
    original = gen.generate
    gen.generate = lambda rs: calls.append([r.id for r in rs]) or original(rs)  # type: ignore
    cands, _ = generate_candidates(gen, reqs, tmp_path / "c")
    assert sorted(sum(calls, [])) == sorted(r.id for r in reqs[2:])
    assert len(cands) == 4
    lines = (tmp_path / "c" / "index.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["id"] for x in lines) == sorted(r.id for r in reqs)


def test_model_identity_follows_content_not_place(tmp_path, tiny):
    copy = shutil.copytree(tiny["sd15"], tmp_path / "moved")
    assert base_model_identity(copy) == base_model_identity(tiny["sd15"])
    weights = next(copy.glob("unet/*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF  # one changed byte of a weight
    weights.write_bytes(bytes(data))
    assert base_model_identity(copy) != base_model_identity(tiny["sd15"])
    assert base_model_identity("org/model") == "hub:org/model"


def test_lora_is_found_and_hashed_before_the_model_loads(tmp_path, loras):
    with pytest.raises(NotFoundError, match="pytorch_lora_weights"):
        DiffusersGenerator("no/such-model", lora=tmp_path, device="cpu")
    a = diffusers_fingerprint("x/y", loras["sd15"], GenerateConfig(), "fp32", early=False)
    b = diffusers_fingerprint("x/y", loras["sdxl"], GenerateConfig(), "fp32", early=False)
    assert a["lora"] and a["lora"] != b["lora"]
