"""``headshots`` as a real process: unreadable photos, and other libraries' output kept off the
terminal (mediapipe writes from C++ straight to descriptor 2, which CliRunner cannot see)."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.cli.conftest import run_headshots
from tests.conftest import DATA

# what the libraries print when nobody stops them (seen on this machine)
NOISE = ("W0000", "XNNPACK", "absl::", "inference_feedback_manager", "[transformers]",
         "Loading pipeline components", "it/s]")


@pytest.fixture()
def selfies(tmp_path):
    folder = tmp_path / "my-selfies"
    folder.mkdir()
    for name in ("obama", "obama2", "obama3"):
        shutil.copy(DATA / f"{name}.jpg", folder / f"{name}.jpg")
    shutil.copy(DATA / "obama.jpg", folder / "locked.jpg")
    (folder / "locked.jpg").chmod(0o000)  # permission denied (see run_headshots for root)
    yield folder
    (folder / "locked.jpg").chmod(0o644)


@pytest.mark.slow
def test_check_reports_an_unreadable_photo_and_keeps_the_others_off_a_quiet_terminal(
        tmp_path, selfies):
    log = tmp_path / "state" / "headshots.log"
    report = tmp_path / "report.json"
    result = run_headshots(["check", str(selfies), "--json", str(report)], log,
                           bound_by_permissions=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # not one line of mediapipe's
    data = json.loads(report.read_text())
    got = {p["file"]: p for p in data["photos"]}
    assert got["locked.jpg"]["reasons"] == ["unreadable"]
    assert got["locked.jpg"]["detail"] == "locked.jpg: cannot be read (Permission denied)"
    assert [got[n]["accepted"] for n in ("obama.jpg", "obama2.jpg", "obama3.jpg")] == [True] * 3
    assert "cannot be read (Permission denied)" in result.stdout
    # the noise went to the log, which names no photo and no folder of the person's
    text = log.read_text()
    assert "XNNPACK" in text and " check\n" in text
    for private in ("obama", "locked", "my-selfies", str(tmp_path)):
        assert private not in text


@pytest.mark.slow
def test_judge_reports_an_unreadable_candidate_and_judges_the_rest(tmp_path, selfies):
    cands = tmp_path / "cands"
    cands.mkdir()
    for name in ("obama2", "biden"):
        shutil.copy(DATA / f"{name}.jpg", cands / f"{name}.jpg")
    shutil.copy(DATA / "obama3.jpg", cands / "locked.jpg")
    (cands / "locked.jpg").chmod(0o000)
    try:
        result = run_headshots(["judge", str(cands), "--reference", str(selfies), "--json",
                                str(tmp_path / "v.json"), "--workers", "1"],
                               tmp_path / "log", bound_by_permissions=True)
    finally:
        (cands / "locked.jpg").chmod(0o644)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    verdicts = {c["file"].rsplit("/", 1)[-1]: c
                for c in json.loads((tmp_path / "v.json").read_text())["candidates"]}
    assert verdicts["locked.jpg"]["reasons"] == ["unreadable"]
    assert verdicts["obama2.jpg"]["accepted"]
    assert "low_likeness" in verdicts["biden.jpg"]["reasons"]
    # the unreadable selfie is left out of the references with a word, not a crash
    assert "reference photos left out: locked.jpg (unreadable)" in result.stdout


@pytest.mark.slow
def test_verbose_lets_the_libraries_speak(tmp_path):
    folder = tmp_path / "selfies"
    folder.mkdir()
    shutil.copy(DATA / "obama.jpg", folder / "a.jpg")
    result = run_headshots(["check", str(folder), "--verbose"], tmp_path / "log")
    assert result.returncode == 0 and "XNNPACK" in result.stderr


@pytest.mark.slow
def test_generate_keeps_the_libraries_off_the_terminal(tmp_path, tiny):
    log = tmp_path / "log"
    result = run_headshots(["generate", "--base-model", str(tiny["sd15"]), "--candidates", "1",
                            "--styles", "corporate-grey", "--out", str(tmp_path / "c"),
                            "--resolution", "64", "--sample-steps", "2", "--device", "cpu"], log)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert not any(n in result.stdout for n in NOISE)
    assert log.read_text().startswith("--- ")  # the command's line, whatever the libraries said


def test_the_log_blanks_the_commands_private_values(tmp_path, monkeypatch):
    """What reaches descriptor 2 (as mediapipe's C++ writes it) or sys.stderr (as Python
    warnings and transformers do) lands in the log with the command's paths and own words
    blanked; the rest of each line is kept for bug reports."""
    import os
    import sys

    from headshots.cli._logs import third_party_output_to_log

    log = tmp_path / "log"
    monkeypatch.setenv("HEADSHOTS_LOG", str(log))
    folder = tmp_path / "anna-private-folder"
    folder.mkdir()
    (folder / "anna-at-the-beach.jpg").write_bytes(b"")
    args = {"photos": folder, "prompt": "a zanzibarian velvet scarf", "class_word": "quokka",
            "token": "xyzzy", "device": "cpu"}
    with third_party_output_to_log("generate", arguments=args):
        os.write(2, f"W0000 reading {folder}/anna-at-the-beach.jpg\n".encode())
        os.write(2, b"W0000 reading anna-at-the-beach.jpg\n")
        print("input was truncated: ['zanzibarian velvet scarf , xyzzy quokka']",
              file=sys.stderr)
        print("Loading: 10%|#   | 1/10\rLoading: 100%|#####| 10/10", file=sys.stderr)
    text = log.read_text()
    assert text.splitlines()[1:] == [
        "W0000 reading <private>/<private>",
        "W0000 reading <private>",
        "input was truncated: ['<private> <private> <private> , <private> <private>']",
        "Loading: 100%|#####| 10/10",  # a progress bar: where it ended, no carriage returns
    ]
    assert text.startswith("--- ") and text.splitlines()[0].endswith(" generate")


def _on_a_terminal(args: list[str], log) -> tuple[int, str]:
    """Run ``headshots ARGS`` with stdout and stderr on a pseudo-terminal, as a person sees it
    (Rich draws live progress there, and would route stderr through it)."""
    import os
    import pty
    import subprocess
    import sys

    main, child = pty.openpty()
    env = {**os.environ, "HEADSHOTS_LOG": str(log), "TERM": "xterm", "COLUMNS": "120"}
    proc = subprocess.Popen([sys.executable, "-m", "headshots", *args], stdout=child,
                            stderr=child, stdin=subprocess.DEVNULL, env=env)
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode("utf-8", "replace"))  # colours
    return proc.wait(timeout=60), text


@pytest.mark.slow
def test_training_on_a_terminal_shows_our_progress_and_none_of_the_libraries(tmp_path, tiny,
                                                                              crops):
    code, screen = _on_a_terminal(
        ["train", str(crops), "--base-model", str(tiny["sd15"]), "--out", str(tmp_path / "r"),
         "--train-steps", "2", "--checkpoint-every", "2", "--resolution", "64",
         "--device", "cpu"], tmp_path / "log")
    assert code == 0, screen
    assert "training" in screen and "chosen checkpoint" in screen
    assert not any(n in screen for n in NOISE), screen
    assert "XNNPACK" in (tmp_path / "log").read_text()  # mediapipe's lines went to the log
