"""``headshots judge`` on a bad candidates folder: one line naming it, exit 2, no selfie talk."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from headshots.cli import app

runner = CliRunner()


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_a_bad_candidates_folder_is_named(tmp_path, make):
    refs = tmp_path / "refs"
    refs.mkdir()
    cands = tmp_path / "cands"
    if make == "empty":
        cands.mkdir()
    elif make == "file":
        cands.write_text("not a folder")
    result = runner.invoke(app, ["judge", str(cands), "--reference", str(refs)])
    assert result.exit_code == 2, result.output
    assert f"candidates folder {cands}" in result.output
    assert "selfies" not in result.output


def _index(folder, *lines):
    import json

    (folder / "index.jsonl").write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")


def test_an_index_with_path_or_file_and_optional_fields(tmp_path):
    from headshots.cli._judge import early_rejections, load_candidates
    from tests.conftest import DATA

    folder = tmp_path / "cands"
    folder.mkdir()
    for name in ("obama2", "biden"):
        (folder / f"{name}.jpg").write_bytes((DATA / f"{name}.jpg").read_bytes())
    stopped = {"id": "c", "file": None, "style": "corporate-grey", "seed": 3,
               "settings": {"early_rejected": "no_face", "early_rejected_at_step": 4}}
    _index(folder,
           {"id": "a", "path": "obama2.jpg", "style": "corporate-grey", "seed": 7,
            "prompt": "p", "negative_prompt": "", "settings": {"steps": 30}},
           {"file": "biden.jpg"}, stopped)
    a, b = load_candidates(folder)
    assert (a.id, a.path, a.style, a.seed, a.prompt) == ("a", folder / "obama2.jpg",
                                                         "corporate-grey", 7, "p")
    assert (b.id, b.style, b.seed, b.settings) == ("biden", "unknown", None, {})
    assert early_rejections(folder) == [stopped]


@pytest.mark.parametrize("line,says", [('[1, 2]', "line 1 is not a JSON object"),
                                       ('{"file": "x.jpg", "seed": "seven"}', "seed 'seven'")])
def test_a_bad_index_line_is_a_one_line_error(tmp_path, line, says):
    folder = tmp_path / "cands"
    folder.mkdir()
    _index(folder, line)
    refs = tmp_path / "refs"
    refs.mkdir()
    result = runner.invoke(app, ["judge", str(folder), "--reference", str(refs)])
    assert result.exit_code == 2, result.output
    assert says in result.output
