"""``headshots judge --out``: the delivery report lists every candidate of the index, those the
generator stopped early (no image) included, as the judge's own JSON does."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from headshots.cli import app
from tests.conftest import DATA

runner = CliRunner()


def test_judge_delivery_report_lists_candidates_stopped_early(tmp_path):
    folder = tmp_path / "cands"
    folder.mkdir()
    for name in ("obama2", "biden"):
        (folder / f"{name}.jpg").write_bytes((DATA / f"{name}.jpg").read_bytes())
    refs = tmp_path / "refs"
    refs.mkdir()
    for name in ("obama", "obama3"):
        (refs / f"{name}.jpg").write_bytes((DATA / f"{name}.jpg").read_bytes())
    records = [
        {"id": "a", "file": "obama2.jpg", "style": "corporate-grey", "seed": 7},
        {"id": "b", "file": "biden.jpg", "style": "corporate-grey", "seed": 8},
        {"id": "c", "file": "", "style": "navy-blazer", "seed": 9,
         "settings": {"early_rejected": "no_face", "early_rejected_at_step": 6}},
    ]
    (folder / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "delivery"
    result = runner.invoke(app, ["judge", str(folder), "--reference", str(refs), "--out",
                                 str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["candidates"] == 3 and report["summary"]["stopped_early"] == 1
    (stopped,) = [c for c in report["candidates"] if c["stopped_early"]]
    assert stopped == {**stopped, "file": None, "style": "navy-blazer", "seed": 9,
                       "accepted": False, "reasons": ["no_face"], "stopped_at_step": 6,
                       "selected": False, "delivered": []}
    assert report["rejection_counts"]["no_face"] == 1
    assert sorted(p.name for p in (out / "square").iterdir()) == ["01-corporate-grey-7.jpg"]
