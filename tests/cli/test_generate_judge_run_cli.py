"""The generate / judge / preview / run commands, end to end and offline."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from headshots.cli import app
from tests.conftest import DATA

runner = CliRunner()


def test_styles_lists_the_catalog():
    result = runner.invoke(app, ["styles"])
    assert result.exit_code == 0 and "corporate-grey" in result.output
    assert "doctor-white-coat" in result.output


def test_generate_on_a_tiny_model(tmp_path, tiny):
    out = tmp_path / "cands"
    result = runner.invoke(app, ["generate", "--base-model", str(tiny["sd15"]), "--styles",
                                 "corporate-grey,dark-low-key", "--candidates", "3", "--out",
                                 str(out), "--resolution", "64", "--sample-steps", "2",
                                 "--no-early-reject", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in (out / "index.jsonl").read_text().splitlines()]
    # round-robin over the styles, seeds 0, 1, 2 in request order; each recorded with its file
    assert sorted((r["seed"], r["style"]) for r in records) == [
        (0, "corporate-grey"), (1, "dark-low-key"), (2, "corporate-grey")]
    for r in records:
        assert r["file"] == f"{r['style']}/{r['seed']:06d}.png" and (out / r["file"]).is_file()
        assert r["settings"]["steps"] == 2 and "sks person" in r["prompt"]
    bad = runner.invoke(app, ["generate", "--base-model", str(tiny["sd15"]), "--styles",
                              "pirate", "--out", str(out), "--device", "cpu"])
    assert bad.exit_code == 2 and "unknown style" in bad.output


@pytest.fixture()
def replay(tmp_path):
    """Candidates that are real photos: the person, a mirror, other people, a duplicate."""
    from PIL import Image

    folder = tmp_path / "candidates"
    folder.mkdir()
    for name in ("obama2", "obama", "biden", "astronaut"):
        shutil.copy(DATA / f"{name}.jpg", folder / f"{name}.jpg")
    with Image.open(DATA / "obama2.jpg") as im:
        im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / "obama2-mirror.jpg")
        im.resize((im.width // 2, im.height // 2)).save(folder / "obama2-small.jpg", quality=60)
    refs = tmp_path / "selfies"
    refs.mkdir()
    for name in ("obama", "obama3"):
        shutil.copy(DATA / f"{name}.jpg", refs / f"{name}.jpg")
    return folder, refs


def test_judge_selects_and_delivers_labelled_files(tmp_path, replay):
    from headshots.deliver import digital_source_type, read_manifest

    folder, refs = replay
    out = tmp_path / "delivery"
    result = runner.invoke(app, ["judge", str(folder), "--reference", str(refs), "--top", "10",
                                 "--out", str(out), "--json", str(tmp_path / "v.json"),
                                 "--workers", "1"])
    assert result.exit_code == 0, result.output
    verdicts = {c["file"].split("/")[-1]: c for c in
                json.loads((tmp_path / "v.json").read_text())["candidates"]}
    assert "low_likeness" in verdicts["biden.jpg"]["reasons"]
    assert "low_likeness" in verdicts["astronaut.jpg"]["reasons"]
    assert verdicts["obama.jpg"]["accepted"]
    # the same shot three times (resized, mirrored): the best one stays
    trio = sorted(verdicts[f]["reasons"] for f in ("obama2.jpg", "obama2-small.jpg",
                                                   "obama2-mirror.jpg"))
    assert trio == [[], ["duplicate"], ["duplicate"]]
    selected = [v for v in verdicts.values() if v["selected"]]
    assert sorted(v["rank"] for v in selected) == list(range(1, len(selected) + 1))
    files = sorted((out / "square").glob("*"))
    assert len(files) == len(selected) >= 2
    for f in files:
        assert digital_source_type(f).endswith("trainedAlgorithmicMedia")
        summary = read_manifest(f)
        assert summary is not None and "c2pa.created" in json.dumps(summary.__dict__, default=str)
    assert (out / "contact_sheet.png").exists() and (out / "report.json").exists()
