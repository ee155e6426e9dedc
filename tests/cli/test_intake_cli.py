from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from headshots.cli import app
from tests.conftest import DATA

runner = CliRunner()


def _folder(tmp_path, names=("obama", "obama2", "biden")):
    d = tmp_path / "selfies"
    d.mkdir()
    for n in names:
        shutil.copy(DATA / f"{n}.jpg", d / f"{n}.jpg")
    (d / "notes.txt").write_text("not a photo")
    return d


def test_check_prints_table_and_writes_json_and_sheet(tmp_path):
    folder = _folder(tmp_path)
    result = runner.invoke(app, ["check", str(folder), "--json", str(tmp_path / "r.json"),
                                 "--sheet", str(tmp_path / "s.png")])
    assert result.exit_code == 0, result.output
    assert "Selfie check" in result.output and "not ready" in result.output
    assert "skipped: notes.txt (not a photo)" in result.output
    data = json.loads((tmp_path / "r.json").read_text())
    got = {p["file"]: p["reasons"] for p in data["photos"]}
    # notes.txt is not a photo: named as skipped, not counted as an unreadable photo of the set
    assert got == {"biden.jpg": ["different_person"], "obama.jpg": [], "obama2.jpg": []}
    assert data["skipped"] == [{"file": "notes.txt", "why": "not a photo"}]
    assert data["set"]["accepted"] == 2 and data["set"]["ready"] is False
    assert (tmp_path / "s.png").stat().st_size > 10_000


def test_check_missing_folder_is_one_line_exit_2(tmp_path):
    result = runner.invoke(app, ["check", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_check_empty_folder_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["check", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "holds no photos" in result.output
    (tmp_path / "empty" / "notes.txt").write_text("x")
    (tmp_path / "empty" / "old").mkdir()
    result = runner.invoke(app, ["check", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert result.output == (f"error: folder {tmp_path / 'empty'} holds no photos (only notes.txt "
                             "(not a photo), old/ (a folder: photos in subfolders are not looked "
                             "at)) — pass the folder with your selfies (8-20 photos of one "
                             "person)\n")


def test_prepare_writes_crops_report_and_sheet(tmp_path):
    folder = _folder(tmp_path, ("obama", "obama3"))
    out = tmp_path / "run"
    result = runner.invoke(app, ["prepare", str(folder), "--out", str(out), "--resolution", "128"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "crops").iterdir()) == ["001-obama.png", "002-obama3.png",
                                                                 "crops.json"]
    assert json.loads((out / "intake" / "report.json").read_text())["set"]["accepted"] == 2
    assert (out / "intake" / "sheet.png").exists()


def test_demo_runs_on_the_bundled_samples(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    demo = tmp_path / "demo"
    report = json.loads((demo / "intake" / "report.json").read_text())
    assert report["set"]["accepted"] == 3
    assert len(list((demo / "crops").glob("*.png"))) == 3
    verdicts = json.loads((demo / "judge" / "report.json").read_text())["candidates"]
    assert sum(v["accepted"] for v in verdicts) == 3  # three photos of the person
    mirror = next(v for v in verdicts if v["file"].endswith("obama2-mirrored.jpg"))
    assert mirror["reasons"] == ["duplicate"]  # never delivered beside its original
    # the stand-ins are real photographs: labelled as such, never as AI-generated
    from headshots.deliver import digital_source_type, read_manifest

    files = sorted((demo / "delivery" / "square").glob("*.jpg"))
    assert [f.name for f in files] == ["01-stand-in.jpg", "02-stand-in.jpg", "03-stand-in.jpg"]
    for f in files:
        assert digital_source_type(f) is None
        manifest = read_manifest(f)
        assert manifest is not None and "c2pa.created" not in manifest.actions
        assert manifest.digital_source_types == ()
    assert "NOT AI-generated" in (demo / "delivery" / "USAGE.md").read_text()
    labels = json.loads((demo / "delivery" / "report.json").read_text())["labels"]
    assert labels["inputs"] == "stand-in" and labels["ai_generated"] is False
    assert (demo / "delivery" / "contact_sheet.png").exists()
    tiny = json.loads((demo / "tiny-order" / "summary.json").read_text())
    assert tiny["status"] == "delivered" and tiny["candidates"] == 4
    assert tiny["accepted"] == 0 and tiny["reasons"] == {"no_face": 4}  # noise has no face
    assert (demo / "tiny-order" / "report.json").exists()  # the exported delivery
    assert "encryption key destroyed" in result.output  # and the order deleted at the end
    assert not [p for p in (demo / "data" / "blobs").rglob("*") if p.is_file()]


def test_version_and_help():
    assert runner.invoke(app, ["--version"]).output.startswith("headshots ")
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "check" in result.output


def test_json_dash_prints_only_json_on_stdout(tmp_path):
    """`--json -` pipes: stdout holds the JSON alone; the table moves to stderr."""
    folder = _folder(tmp_path, names=("obama", "obama2"))
    result = runner.invoke(app, ["check", str(folder), "--json", "-"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # would fail with a table mixed in
    assert {p["file"] for p in data["photos"]} == {"obama.jpg", "obama2.jpg"}
    assert "Selfie check" in result.stderr
    assert not (tmp_path / "-").exists()
    again = runner.invoke(app, ["check", str(folder)])  # the next command prints on stdout again
    assert "Selfie check" in again.stdout
