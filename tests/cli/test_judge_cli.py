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
