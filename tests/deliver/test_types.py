from pathlib import Path

import pytest
from pydantic import ValidationError

from headshots.deliver import CandidateRecord, Selection
from headshots.types import Reason

P = Path("c.png")


def test_rejected_candidate_needs_a_reason():
    with pytest.raises(ValidationError, match="needs at least one reason"):
        CandidateRecord(file=P, accepted=False)


def test_accepted_candidate_has_no_reasons():
    with pytest.raises(ValidationError, match="has no rejection reasons"):
        CandidateRecord(file=P, accepted=True, reasons=(Reason.BLURRY,))


@pytest.mark.parametrize("kwargs", [
    {"accepted": False, "reasons": (Reason.BAD_HANDS,), "selected": True, "rank": 1},
    {"accepted": True, "selected": True},
])
def test_selected_candidate_is_accepted_and_ranked(kwargs):
    with pytest.raises(ValidationError, match="must be accepted and ranked"):
        CandidateRecord(file=P, **kwargs)


def test_rank_only_on_selected_and_unique():
    with pytest.raises(ValidationError, match="only selected"):
        CandidateRecord(file=P, accepted=True, rank=2)
    a = CandidateRecord(file=P, accepted=True, selected=True, rank=1)
    with pytest.raises(ValidationError, match="ranks must be unique"):
        Selection(candidates=(a, a))


def test_selected_in_rank_order_and_json_round_trip(selection):
    assert [c.rank for c in selection.selected] == [1, 2, 3]
    assert [c.seed for c in selection.rejected] == [14, 15]
    again = Selection.model_validate_json(selection.model_dump_json())
    assert again == selection
    assert again.candidates[5].reasons == (Reason.LOW_LIKENESS, Reason.BAD_HANDS)
