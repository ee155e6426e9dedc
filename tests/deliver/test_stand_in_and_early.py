"""Delivery of the demo's stand-in photographs (no AI claim, read back from XMP and C2PA),
candidates generation stopped early (in the report and the chart), and files named and
captioned sensibly when the style is unknown (a plain folder judged)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from headshots.deliver import (
    TRAINED_ALGORITHMIC_MEDIA,
    CandidateRecord,
    DeliverConfig,
    Framing,
    Inputs,
    LikenessCalibration,
    Selection,
    deliver,
    digital_source_type,
    read_manifest,
    read_xmp,
    rejection_counts,
)
from headshots.types import Reason

SMALL = DeliverConfig(width=256, sheet_cell=160, framings=(Framing.SQUARE,))


def _plain_folder_selection(files: dict[str, Path]) -> Selection:
    """What `headshots judge` on a plain folder hands over: no style, no seed."""
    return Selection(candidates=(
        CandidateRecord(file=files["obama2"], accepted=True, scores={"likeness": 0.9},
                        selected=True, rank=1),
        CandidateRecord(file=files["obama"], accepted=True, scores={"likeness": 0.8},
                        selected=True, rank=2),
        CandidateRecord(file=files["biden"], accepted=False, reasons=(Reason.LOW_LIKENESS,)),
    ))


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory, candidate_files, backend, identity):
    out = tmp_path_factory.mktemp("demo") / "delivery"
    config = SMALL.model_copy(update={"inputs": Inputs.STAND_IN})
    return deliver(_plain_folder_selection(candidate_files), out, config, backend=backend,
                   identity=identity)


def test_stand_ins_carry_no_ai_claim(stand_ins, identity):
    assert sorted(d.file.name for d in stand_ins.files) == ["01-stand-in.jpg",
                                                             "02-stand-in.jpg"]
    for d in stand_ins.files:
        data = d.file.read_bytes()
        assert digital_source_type(data) is None
        xmp = read_xmp(data)
        assert xmp is not None and "trainedAlgorithmicMedia" not in xmp
        assert "Demo stand-in: a real photograph" in xmp and "not AI-generated" in xmp
        m = read_manifest(data, trust_anchors=identity.root_pem)
        assert m is not None and m.state == "Trusted", m and m.failures
        # what really happened: a photograph opened, cropped and resized; nothing created
        assert m.actions == ("c2pa.opened", "c2pa.cropped", "c2pa.resized")
        assert "c2pa.created" not in m.actions and m.digital_source_types == ()
        (ingredient,) = m.manifest["ingredients"]
        assert ingredient["relationship"] == "parentOf"
        assert ingredient["title"] == "source photograph"  # not the source's file name
        assert "trainedAlgorithmicMedia" not in json.dumps(m.manifest)


def test_stand_ins_say_so_in_report_usage_and_sheet(stand_ins):
    report = json.loads(stand_ins.report.read_text())
    assert report["labels"]["inputs"] == "stand-in"
    assert report["labels"]["ai_generated"] is False
    assert report["labels"]["xmp_digital_source_type"] is None
    assert report["labels"]["c2pa_actions"] == ["c2pa.opened", "c2pa.cropped", "c2pa.resized"]
    usage = stand_ins.usage.read_text()
    assert usage.startswith("# Demo stand-ins — NOT AI-generated headshots")
    assert "real photographs" in usage
    assert "These images are AI-generated" not in usage
    with Image.open(stand_ins.contact_sheet) as sheet:
        assert sheet.format == "PNG"


def test_generated_delivery_unchanged_by_default(candidate_files, backend, identity, tmp_path):
    result = deliver(_plain_folder_selection(candidate_files), tmp_path / "d", SMALL,
                     backend=backend, identity=identity)
    # no style known: named by rank alone (a source's own file name may be personal)
    assert sorted(d.file.name for d in result.files) == ["01.jpg", "02.jpg"]
    data = result.files[0].file.read_bytes()
    assert digital_source_type(data) == TRAINED_ALGORITHMIC_MEDIA
    m = read_manifest(data)
    assert m is not None and m.actions == ("c2pa.created",)


def test_captions_name_the_source_file_when_the_style_is_unknown():
    from headshots.deliver._sheet import _caption

    plain = CandidateRecord(file=Path("/x/王小明-1.png"), accepted=True)
    assert _caption(plain, stand_in=False) == "王小明-1.png"
    assert _caption(plain, stand_in=True) == "stand-in · 王小明-1.png"
    styled = CandidateRecord(file=Path("/x/a.png"), style="navy-blazer", seed=7, accepted=True)
    assert _caption(styled, stand_in=False) == "navy-blazer · seed 7"


def test_odd_styles_make_safe_names(candidate_files, backend, tmp_path):
    sel = Selection(candidates=(
        CandidateRecord(file=candidate_files["obama2"], style="../../Étude: 王", seed=3,
                        accepted=True, selected=True, rank=1),
    ))
    result = deliver(sel, tmp_path / "d", SMALL.model_copy(update={"sign_c2pa": False}),
                     backend=backend)
    (only,) = result.files
    assert only.file.name == "01-etude-3.jpg"
    assert only.file.parent == tmp_path / "d" / "square"


# -- candidates generation stopped early ---------------------------------------------------


def test_a_stopped_candidate_has_no_image_and_is_rejected():
    rec = CandidateRecord.stopped(Reason.NO_FACE, style="navy-blazer", seed=5, step=6)
    assert rec.file is None and not rec.accepted and rec.reasons == (Reason.NO_FACE,)
    assert rec.stopped_early and rec.stopped_at_step == 6
    assert "navy-blazer seed 5" in rec.label
    with pytest.raises(ValueError, match="only a candidate stopped early has no image"):
        CandidateRecord(file=None, accepted=False, reasons=(Reason.NO_FACE,))
    with pytest.raises(ValueError, match="stopped early was rejected"):
        CandidateRecord(file=None, accepted=True, stopped_early=True)


def test_report_and_chart_count_candidates_stopped_early(candidate_files, backend, tmp_path):
    sel = _plain_folder_selection(candidate_files)
    early = (CandidateRecord.stopped(Reason.NO_FACE, style="navy-blazer", seed=5, step=6),
             CandidateRecord.stopped(Reason.LOW_LIKENESS, style="navy-blazer", seed=6),
             CandidateRecord.stopped(Reason.NO_FACE, style="corporate-grey", seed=7, step=6))
    sel = Selection(candidates=sel.candidates + early,
                    calibration=LikenessCalibration(references=2))
    assert len(sel.stopped_early) == 3 and len(sel.rejected) == 4
    assert rejection_counts(sel) == {"no_face": 2, "low_likeness": 2}
    result = deliver(sel, tmp_path / "d", SMALL.model_copy(update={"sign_c2pa": False}),
                     backend=backend)
    report = json.loads(result.report.read_text())
    assert report["summary"]["candidates"] == 6
    assert report["summary"]["stopped_early"] == 3 and report["summary"]["rejected"] == 4
    rows = [r for r in report["candidates"] if r["stopped_early"]]
    assert [(r["file"], r["style"], r["seed"], r["reasons"], r["stopped_at_step"])
            for r in rows] == [(None, "navy-blazer", 5, ["no_face"], 6),
                               (None, "navy-blazer", 6, ["low_likeness"], None),
                               (None, "corporate-grey", 7, ["no_face"], 6)]
    assert all(r["delivered"] == [] for r in rows)
    # the report reads back into the same selection
    keys = set(CandidateRecord.model_fields)
    back = Selection.model_validate({"candidates": [{k: r[k] for k in keys}
                                                    for r in report["candidates"]]})
    assert back.stopped_early == sel.stopped_early
    with Image.open(result.rejection_chart) as chart:
        px = np.asarray(chart.convert("RGB")).reshape(-1, 3)
    # both bar colours: rejected by the judge, stopped early during generation
    for colour in ((0xB8, 0x4A, 0x3C), (0xE5, 0xA5, 0x9B)):
        assert (np.abs(px.astype(int) - colour).sum(axis=1) < 6).sum() > 200, colour
