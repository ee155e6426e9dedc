"""headshots.pipeline's own words."""

from __future__ import annotations

from pathlib import Path

from headshots.judge import JudgeResult
from headshots.pipeline import preview_verdict
from headshots.types import Candidate, Reason


def _results(passed: int, failed: int) -> list[JudgeResult]:
    out = [JudgeResult(Candidate(id=f"p{i}", path=Path(f"p{i}.png"))) for i in range(passed)]
    out += [JudgeResult(Candidate(id=f"f{i}", path=Path(f"f{i}.png")), [Reason.NO_FACE])
            for i in range(failed)]
    return out


def test_preview_verdict_says_none_not_only_zero():
    verdict = preview_verdict(_results(0, 8))
    assert not verdict.go
    assert verdict.why == "none of the 8 preview images pass (need 2); main reasons: no_face ×8"
    assert preview_verdict(_results(1, 7)).why.startswith("only 1 of 8 preview images pass")
    assert preview_verdict(_results(2, 6)).why == "2 of 8 preview images pass the judge"
