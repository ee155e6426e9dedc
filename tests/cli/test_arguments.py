"""Arguments: one vocabulary across commands, every one checked before slow work, the identity
words carried from training, an explicit --top honoured, Ctrl-C as one line."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from headshots.cli import app
from tests.conftest import DATA

runner = CliRunner()


def _commands() -> dict[str, Any]:
    return dict(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def _options(cmd: Any) -> dict[str, Any]:
    return {name: p for p in cmd.params for name in p.opts if name.startswith("--")}


STAGE_COMMANDS = ("check", "prepare", "train", "styles", "preview", "generate", "judge", "run")


def test_one_vocabulary_across_commands():
    commands = _commands()
    seen: dict[str, tuple[str, str | None]] = {}
    for name, cmd in commands.items():
        opts = _options(cmd)
        assert "--steps" not in opts and "--count" not in opts, name  # ambiguous names are gone
        if name not in STAGE_COMMANDS:
            continue  # demo, and the order bookkeeping commands (orders, receipt, ...)
        assert "--verbose" in opts, name
        for opt, param in opts.items():
            if opt in ("--out", "--help", "--reference", "--batch-size", "--candidates"):
                continue  # --out: a folder or a file per command; the others' help names them
            help_text = getattr(param, "help", None)
            if opt in seen:
                assert seen[opt][0] == help_text, (opt, name, seen[opt][1])
            seen[opt] = (help_text, name)
    for name in ("generate", "preview", "run"):
        opts = _options(commands[name])
        assert opts["--styles"].default == "corporate-grey,navy-blazer,outdoor-natural", name
        assert {"--sample-steps", "--styles-file", "--prompt", "--seed", "--candidates",
                "--guidance"} <= set(opts), name
    assert {"--train-steps", "--learning-rate", "--rank"} <= set(_options(commands["run"]))
    assert "--train-steps" in _options(commands["train"])


@pytest.fixture()
def selfies(tmp_path):
    folder = tmp_path / "selfies"
    folder.mkdir()
    for name in ("obama", "obama2"):
        shutil.copy(DATA / f"{name}.jpg", folder / f"{name}.jpg")
    return folder


def _model(tmp_path):
    model = tmp_path / "model"
    model.mkdir(exist_ok=True)
    (model / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    return str(model)


@pytest.mark.parametrize(("args", "says"), [
    (["train", "{tmp}/nope", "--base-model", "{model}", "--out", "{tmp}/r"],
     "error: folder {tmp}/nope does not exist — pass the folder with your selfies, a folder of "
     "prepared crops, or a run folder"),
    (["train", "{selfies}", "--base-model", "{tmp}/no-model", "--out", "{tmp}/r"],
     "error: base model {tmp}/no-model does not exist"),
    (["generate", "--base-model", "{model}", "--styles", "pirate", "--out", "{tmp}/c"],
     "error: unknown style(s): pirate — choose from: "),
    (["generate", "--base-model", "{model}", "--styles-file", "{tmp}/mine.yaml", "--out",
      "{tmp}/c"], "error: style file or folder {tmp}/mine.yaml does not exist"),
    (["generate", "--lora", "nosuchrun", "--base-model", "{model}", "--out", "{tmp}/c"],
     "error: --lora nosuchrun does not exist — pass the run folder of `headshots train` "
     "(its --out)"),
    (["generate", "--lora", "{selfies}", "--base-model", "{model}", "--out", "{tmp}/c"],
     "error: --lora {selfies} holds no trained LoRA (no "
     "{selfies}/train/pytorch_lora_weights.safetensors) — finish training into it first"),
    (["preview", "{selfies}", "--base-model", "{model}"],
     "error: run folder {selfies} holds no trained LoRA"),
    (["run", "{selfies}", "--base-model", "{model}", "--out", "{tmp}/r", "--learning-rate", "5"],
     "error: --learning-rate 5.0: input should be less than or equal to 1 — see "
     "`headshots run --help`"),
    (["run", "{selfies}", "--base-model", "{model}", "--out", "{tmp}/r", "--styles", "pirate"],
     "error: unknown style(s): pirate"),
    (["run", "{tmp}/nope", "--base-model", "{model}", "--out", "{tmp}/r"],
     "error: folder {tmp}/nope does not exist"),
    (["run", "{selfies}", "--base-model", "{tmp}/no-model", "--out", "{tmp}/r"],
     "error: base model {tmp}/no-model does not exist"),
    (["train", "{selfies}", "--base-model", "{model}", "--out", "{tmp}/r", "--device", "tpu"],
     "error: device must be auto, cpu or cuda, got 'tpu' — pass --device cpu"),
    (["run", "{selfies}", "--base-model", "{model}", "--out", "{tmp}/r", "--device", "gpu"],
     "error: device must be auto, cpu or cuda, got 'gpu'"),
    (["judge", "{selfies}", "--reference", "{tmp}/r"],
     "error: reference folder {tmp}/r holds no photos (only crops/ (a folder: photos in "
     "subfolders are not looked at)) — pass {tmp}/r/crops, the run's prepared photos"),
    (["judge", "{selfies}", "--reference", "{tmp}/nope"],
     "error: reference folder {tmp}/nope does not exist"),
])
def test_arguments_are_checked_before_slow_work(tmp_path, selfies, no_slow_work, args, says):
    fill = {"tmp": str(tmp_path), "selfies": str(selfies), "model": _model(tmp_path)}
    (tmp_path / "r" / "crops").mkdir(parents=True)  # a run folder
    result = runner.invoke(app, [a.format(**fill) for a in args])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(says.format(**fill)), result.output
    assert result.output.count("\n") == 1


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny, crops):
    """A tiny run trained with the person's own words: --class-word man --token zwx."""
    out = tmp_path_factory.mktemp("trained") / "run"
    result = runner.invoke(app, ["train", str(crops), "--base-model", str(tiny["sd15"]),
                                 "--out", str(out), "--train-steps", "2", "--resolution", "64",
                                 "--checkpoint-every", "2", "--class-word", "man", "--token",
                                 "zwx", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_generate_speaks_the_training_runs_words(tmp_path, tiny, trained):
    out = tmp_path / "c"
    result = runner.invoke(app, ["generate", "--lora", str(trained), "--base-model",
                                 str(tiny["sd15"]), "--candidates", "1", "--styles",
                                 "corporate-grey", "--out", str(out), "--resolution", "64",
                                 "--sample-steps", "1", "--no-early-reject", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    record = json.loads((out / "index.jsonl").read_text())
    assert "photo of zwx man," in record["prompt"] and "sks" not in record["prompt"]


@pytest.mark.slow
@pytest.mark.parametrize("args", [["--class-word", "woman"], ["--token", "sks"]])
def test_words_that_disagree_with_training_are_an_error(tmp_path, tiny, trained, no_slow_work,
                                                        args):
    for command in (["generate", "--lora", str(trained), "--out", str(tmp_path / "c")],
                    ["preview", str(trained)]):
        result = runner.invoke(app, [*command, "--base-model", str(tiny["sd15"]), *args])
        assert result.exit_code == 2, result.output
        option, given = args
        was = {"--class-word": "man", "--token": "zwx"}[option]
        assert result.output.startswith(
            f"error: {option} '{given}' differs from the training run's '{was}' "
            f"({trained / 'train' / 'train_report.json'}) — leave {option} out to use '{was}', "
            f"or train again with {option} {given}"), result.output


def test_an_explicit_top_selects_that_many(tmp_path):
    cands = tmp_path / "cands"
    cands.mkdir()
    for name in ("obama", "obama2", "obama3", "biden"):  # three of the person pass
        shutil.copy(DATA / f"{name}.jpg", cands / f"{name}.jpg")
    refs = tmp_path / "refs"
    refs.mkdir()
    for name in ("obama", "obama2", "obama3"):
        shutil.copy(DATA / f"{name}.jpg", refs / f"{name}.jpg")

    def selected(*extra):
        result = runner.invoke(app, ["judge", str(cands), "--reference", str(refs), "--json",
                                     str(tmp_path / "v.json"), "--workers", "1", *extra])
        assert result.exit_code == 0, result.output
        verdicts = json.loads((tmp_path / "v.json").read_text())["candidates"]
        assert sum(v["accepted"] for v in verdicts) == 3
        return sum(v["selected"] for v in verdicts)

    assert selected("--top", "2") == 2  # asked for two: two, not the scaled floor of four
    assert selected("--top", "1") == 1
    assert selected() == 3  # by default: K scaled to the run, at least 4, at most the accepted


@pytest.mark.parametrize(("command", "patch", "says"), [
    (["check", "{selfies}"], "headshots.intake.check_set",
     "stopped — nothing was lost: run the same command again to start it over"),
    (["train", "{crops}", "--base-model", "{model}", "--out", "{tmp}/r", "--device", "cpu"],
     "headshots.finetune.train_lora",
     "stopped — run the same command again to resume from the last checkpoint"),
])
def test_ctrl_c_is_one_line_saying_what_rerunning_does(tmp_path, selfies, crops, tiny,
                                                       monkeypatch, command, patch, says):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(patch, interrupted)
    fill = {"tmp": str(tmp_path), "selfies": str(selfies), "crops": str(crops),
            "model": str(tiny["sd15"])}
    result = runner.invoke(app, [a.format(**fill) for a in command])
    assert result.exit_code == 130
    assert result.output.splitlines()[-1] == says
    assert "Traceback" not in result.output
