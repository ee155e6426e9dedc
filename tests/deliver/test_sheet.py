import numpy as np
from PIL import Image

from headshots.deliver import (
    CandidateRecord,
    Selection,
    rejection_counts,
    render_contact_sheet,
    render_rejection_chart,
)
from headshots.types import Reason


def test_rejection_counts_most_frequent_first(selection):
    assert list(rejection_counts(selection).items()) == [("low_likeness", 2), ("bad_hands", 1)]


def test_chart_and_sheet_when_nothing_was_rejected_or_selected(tmp_path):
    ok = CandidateRecord(file=tmp_path / "a.png", accepted=True)
    sel = Selection(candidates=(ok,))
    assert rejection_counts(sel) == {}
    chart = render_rejection_chart(sel, tmp_path / "r.png")
    sheet = render_contact_sheet([], tmp_path / "s.png")
    for p in (chart, sheet):
        with Image.open(p) as im:
            assert im.format == "PNG"


def test_sheet_grid_grows_with_items(tmp_path):
    rec = CandidateRecord(file=tmp_path / "a.png", accepted=True, selected=True, rank=1,
                          style="x", scores={"likeness": 0.5})
    px = np.full((125, 100, 3), 90, np.uint8)
    one = render_contact_sheet([(rec, px)], tmp_path / "1.png", columns=3, cell=100)
    six = render_contact_sheet([(rec, px)] * 6, tmp_path / "6.png", columns=3, cell=100)
    with Image.open(one) as a, Image.open(six) as b:
        assert b.width > a.width and b.height > a.height
        assert a.height > 125  # 4:5 tiles keep their shape


def test_rejected_reasons_sorted_by_name_on_ties(tmp_path):
    recs = tuple(
        CandidateRecord(file=tmp_path / f"{i}.png", accepted=False, reasons=(r,))
        for i, r in enumerate([Reason.EYES_OFF, Reason.BAD_HANDS])
    )
    assert list(rejection_counts(Selection(candidates=recs))) == ["bad_hands", "eyes_off"]
