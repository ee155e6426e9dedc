"""`headshots generate`'s generation flags: precision, safety checker, refresh; a stale
folder is refused before the model loads."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from headshots.cli import app

runner = CliRunner()


def _generate(tiny, out, *extra):
    return runner.invoke(app, ["generate", "--base-model", str(tiny["sd15"]), "--candidates", "2",
                               "--out", str(out), "--resolution", "64", "--sample-steps", "2",
                               "--no-early-reject", "--device", "cpu", *extra])


def test_stale_folder_is_refused_before_loading_then_refreshed(tmp_path, tiny, monkeypatch):
    import headshots.finetune

    out = tmp_path / "c"
    first = _generate(tiny, out)
    assert first.exit_code == 0, first.output
    assert "0 flagged by the safety checker" in first.output
    real_load = headshots.finetune.load_base_model
    loads = []
    monkeypatch.setattr(headshots.finetune, "load_base_model",
                        lambda *a, **k: loads.append(1) or real_load(*a, **k))
    stale = _generate(tiny, out, "--precision", "bf16")
    assert stale.exit_code == 2 and loads == []
    assert "made differently (precision fp32 → bf16) — pass --refresh" in stale.output
    fresh = _generate(tiny, out, "--precision", "bf16", "--refresh")
    assert fresh.exit_code == 0, fresh.output
    lines = [json.loads(x) for x in (out / "index.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and {x["made_with"]["precision"] for x in lines} == {"bf16"}


def test_bad_precision_is_one_line_exit_2(tmp_path, tiny):
    bad = _generate(tiny, tmp_path / "c", "--precision", "int8")
    assert bad.exit_code == 2 and "precision must be auto, fp32, fp16 or bf16" in bad.output


def test_safety_checker_flag_reaches_the_index(tmp_path, tiny):
    result = _generate(tiny, tmp_path / "c", "--no-safety-checker")
    assert result.exit_code == 0, result.output
    line = (tmp_path / "c" / "index.jsonl").read_text().splitlines()[0]
    assert json.loads(line)["made_with"]["safety_checker"] is False
