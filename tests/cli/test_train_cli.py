from __future__ import annotations

import json

from typer.testing import CliRunner

from headshots.cli import app

runner = CliRunner()


def test_train_on_crops_with_progress_and_report(tmp_path, tiny, crops):
    out = tmp_path / "run"
    args = ["train", str(crops), "--base-model", str(tiny["sd15"]), "--out", str(out),
            "--train-steps", "4", "--resolution", "64", "--learning-rate", "0.01", "--rank", "4",
            "--checkpoint-every", "2", "--device", "cpu"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "chosen checkpoint: step 4" in result.output and "no face" in result.output
    report = json.loads((out / "train" / "train_report.json").read_text())
    assert [c["step"] for c in report["checkpoints"]] == [2, 4]
    assert (out / "train" / "pytorch_lora_weights.safetensors").exists()
    again = runner.invoke(app, args)  # finished run: resumes at the end, trains nothing
    assert again.exit_code == 0 and "resumed from step 4" in again.output


def test_train_errors_are_one_line_exit_2(tmp_path, tiny, crops):
    result = runner.invoke(app, ["train", str(crops), "--base-model", str(tmp_path / "nope"),
                                 "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(app, ["train", str(crops), "--base-model", str(tiny["sd15"]),
                                 "--out", str(tmp_path / "r"), "--mixed-precision", "fp8"])
    assert result.exit_code == 2
    assert result.output == ("error: --mixed-precision 'fp8': input should be 'auto', 'no', "
                             "'fp16' or 'bf16' — see `headshots train --help`\n")


def test_train_on_raw_selfies_checks_and_prepares_first(tmp_path, tiny):
    import shutil

    from PIL import Image

    from tests.conftest import DATA

    selfies = tmp_path / "selfies"
    selfies.mkdir()
    for name in ("obama", "obama2", "obama3"):
        shutil.copy(DATA / f"{name}.jpg", selfies / f"{name}.jpg")
    with Image.open(DATA / "obama2.jpg") as im:
        im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(selfies / "mirror.jpg")
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(selfies), "--base-model", str(tiny["sd15"]),
                                 "--out", str(out), "--train-steps", "2", "--resolution", "64",
                                 "--checkpoint-every", "2", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "Selfie check" in result.output and "training a sd15 LoRA on 4 crops" in result.output
    assert len(list((out / "crops").glob("*.png"))) == 4
    assert (out / "intake" / "report.json").exists()
