"""Every output path of every command is checked before any work: one line, exit 2."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from headshots.cli import app
from tests.cli.conftest import run_headshots
from tests.conftest import DATA

runner = CliRunner()


@pytest.fixture()
def places(tmp_path):
    """Selfies, a plain file, a folder, a trained-looking run and a candidates folder."""
    selfies = tmp_path / "selfies"
    selfies.mkdir()
    for name in ("obama", "obama2"):
        shutil.copy(DATA / f"{name}.jpg", selfies / f"{name}.jpg")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("a file")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    model = tmp_path / "model"
    model.mkdir()
    (model / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    run = tmp_path / "run"
    (run / "train").mkdir(parents=True)
    (run / "train" / "pytorch_lora_weights.safetensors").write_bytes(b"lora")
    shutil.copytree(selfies, run / "crops")
    (run / "preview").write_text("a file where the preview folder goes")
    return {"selfies": selfies, "file": a_file, "folder": folder, "model": str(model),
            "run": run, "tmp": tmp_path}


CASES = [
    (["check", "{selfies}", "--json", "{folder}"],
     "--json {folder} is a folder, not a file — name a file, e.g. {folder}/report.json"),
    (["check", "{selfies}", "--sheet", "{file}/sheet.png"],
     "--sheet {file}/sheet.png cannot be created: {file} is a file, not a folder — choose a "
     "place that is not inside {file}"),
    (["prepare", "{selfies}", "--out", "{file}"],
     "--out {file} is a file, not a folder — pass a folder (it is created when missing)"),
    (["prepare", "{selfies}", "--out", "{file}/run"],
     "--out {file}/run cannot be created: {file} is a file, not a folder"),
    (["train", "{selfies}", "--base-model", "{model}", "--out", "{file}"],
     "--out {file} is a file, not a folder"),
    (["generate", "--base-model", "{model}", "--out", "{file}/cands"],
     "--out {file}/cands cannot be created: {file} is a file, not a folder"),
    (["judge", "{selfies}", "--reference", "{selfies}", "--json", "{folder}"],
     "--json {folder} is a folder, not a file — name a file, e.g. {folder}/verdicts.json"),
    (["judge", "{selfies}", "--reference", "{selfies}", "--out", "{file}"],
     "--out {file} is a file, not a folder"),
    (["preview", "{run}", "--base-model", "{model}"],
     "run folder {run}/preview is a file, not a folder"),
    (["run", "{selfies}", "--base-model", "{model}", "--out", "{file}"],
     "--out {file} is a file, not a folder"),
    (["run", "{selfies}", "--base-model", "{model}", "--out", "{file}/headshots"],
     "--out {file}/headshots cannot be created: {file} is a file, not a folder"),
]


@pytest.mark.parametrize(("args", "says"), CASES, ids=[" ".join(c[0][:1] + c[0][2:4])
                                                      for c in CASES])
def test_a_bad_output_path_is_one_line_before_any_work(places, no_slow_work, args, says):
    fill = {k: str(v) for k, v in places.items()}
    result = runner.invoke(app, [a.format(**fill) for a in args])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: " + says.format(**fill)), result.output
    assert result.output.count("\n") == 1


@pytest.mark.slow
def test_a_read_only_folder_is_refused_before_any_work(places):
    """A real process without root's override of file modes (see run_headshots): the folder
    is read-only to it as to any user, and nothing is checked or loaded first."""
    ro = places["tmp"] / "read-only"
    ro.mkdir()
    ro.chmod(0o555)
    log = places["tmp"] / "log.txt"
    try:
        for args, target in (
            (["check", str(places["selfies"]), "--json", str(ro / "r.json")], ro / "r.json"),
            (["prepare", str(places["selfies"]), "--out", str(ro / "run")], ro / "run"),
            (["judge", str(places["selfies"]), "--reference", str(places["selfies"]),
              "--out", str(ro)], ro),
        ):
            result = run_headshots(args, log, bound_by_permissions=True)
            option = "--json" if "--json" in args else "--out"
            assert result.returncode == 2, result.stderr
            assert result.stderr == (f"error: {option} {target}: cannot write in {ro} "
                                     "(Permission denied) — choose a folder you can write to\n")
            assert result.stdout == ""  # no check, no table: nothing ran
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)
