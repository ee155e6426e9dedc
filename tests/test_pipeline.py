"""headshots.pipeline: to_selection (judge results plus the generator's stopped-early index
records make the deliver stage's Selection, every candidate of the run in it) and the
preview verdict's words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from headshots.errors import InputError
from headshots.judge import JudgeResult, calibrate
from headshots.pipeline import preview_verdict, to_selection
from headshots.types import Candidate, Reason


def _results() -> list[JudgeResult]:
    ok = JudgeResult(Candidate(id="a", path=Path("/c/a.png"), style="navy-blazer", seed=1),
                     scores={"likeness": 0.8})
    bad = JudgeResult(Candidate(id="b", path=Path("/c/b.png"), style="navy-blazer", seed=2))
    bad.add(Reason.BLURRY, "sharpness 0.10")
    return [ok, bad]


def test_stopped_early_records_join_the_selection():
    early = [{"id": "c", "file": "", "style": "navy-blazer", "seed": 3,
              "settings": {"early_rejected": "face_cut_off", "early_rejected_at_step": 6}},
             {"id": "d", "file": "", "style": "navy-blazer", "seed": None,
              "settings": {"early_rejected": "no_face"}}]
    cal = calibrate([np.zeros(128), np.full(128, 0.03)])
    sel = to_selection(_results(), ["a"], cal, early)
    assert [c.label for c in sel.candidates][:2] == ["a.png", "b.png"]
    assert [c.rank for c in sel.selected] == [1]
    c, d = sel.stopped_early
    assert (c.file, c.style, c.seed, c.reasons, c.stopped_at_step) == (
        None, "navy-blazer", 3, (Reason.FACE_CUT_OFF,), 6)
    assert (d.seed, d.reasons, d.stopped_at_step) == (None, (Reason.NO_FACE,), None)
    assert len(sel.rejected) == 3
    assert to_selection(_results(), ["a"], cal).stopped_early == ()


def test_a_stopped_record_without_a_reason_code_is_a_typed_error():
    cal = calibrate([])
    with pytest.raises(InputError, match="not a reason code"):
        to_selection(_results(), [], cal, [{"settings": {"early_rejected": "gremlins"}}])


def _passing(passed: int, failed: int) -> list[JudgeResult]:
    out = [JudgeResult(Candidate(id=f"p{i}", path=Path(f"p{i}.png"))) for i in range(passed)]
    out += [JudgeResult(Candidate(id=f"f{i}", path=Path(f"f{i}.png")), [Reason.NO_FACE])
            for i in range(failed)]
    return out


def test_preview_verdict_says_none_not_only_zero():
    verdict = preview_verdict(_passing(0, 8))
    assert not verdict.go
    assert verdict.why == "none of the 8 preview images pass (need 2); main reasons: no_face ×8"
    assert preview_verdict(_passing(1, 7)).why.startswith("only 1 of 8 preview images pass")
    assert preview_verdict(_passing(2, 6)).why == "2 of 8 preview images pass the judge"
