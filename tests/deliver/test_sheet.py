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
    px = np.full((250, 200, 3), 90, np.uint8)
    one = render_contact_sheet([(rec, px)], tmp_path / "1.png", columns=3, cell=200)
    six = render_contact_sheet([(rec, px)] * 6, tmp_path / "6.png", columns=3, cell=200)
    with Image.open(one) as a, Image.open(six) as b:
        assert b.width > a.width and b.height > a.height
        assert a.height > 250  # 4:5 tiles keep their shape
        assert a.width >= 520  # never narrower than the title


def test_rejected_reasons_sorted_by_name_on_ties(tmp_path):
    recs = tuple(
        CandidateRecord(file=tmp_path / f"{i}.png", accepted=False, reasons=(r,))
        for i, r in enumerate([Reason.EYES_OFF, Reason.BAD_HANDS])
    )
    assert list(rejection_counts(Selection(candidates=recs))) == ["bad_hands", "eyes_off"]


def test_usage_note_names_only_the_delivered_shapes():
    from headshots.deliver import Framing, usage_note

    note = usage_note(signed=True, development_cert=False, image_format="png",
                      framings=(Framing.PORTRAIT,))
    assert "`portrait/*.png`" in note and "square/" not in note
    assert "dev-root-ca.pem" not in note and "contentcredentials.org/verify" in note
