"""End to end on real photos standing in for candidates, with the real face backend and the
real c2pa SDK; the composed outputs (sheet, chart) are checked as files here and looked at."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from headshots.deliver import (
    TRAINED_ALGORITHMIC_MEDIA,
    CandidateRecord,
    DeliverConfig,
    Framing,
    Selection,
    deliver,
    digital_source_type,
    read_manifest,
)
from headshots.errors import ImageError, NotFoundError
from headshots.faces import FakeFaceBackend
from headshots.media import save_clean
from headshots.types import Reason

SMALL = DeliverConfig(width=256, sheet_cell=160)


@pytest.fixture(scope="module")
def delivered(tmp_path_factory, selection, backend, identity):
    out = tmp_path_factory.mktemp("run") / "delivery"
    seen: list[tuple[int, int, str]] = []
    result = deliver(selection, out, SMALL, backend=backend, identity=identity,
                     progress=lambda d, t, w: seen.append((d, t, w)))
    return result, seen


def test_every_selected_headshot_in_both_shapes_labelled_and_signed(delivered, identity):
    result, seen = delivered
    assert [s[:2] for s in seen] == [(1, 3), (2, 3), (3, 3)]
    names = sorted(p.file.relative_to(result.out_dir).as_posix() for p in result.files)
    assert names == [
        "portrait/01-outdoor-12.jpg", "portrait/02-studio-grey-11.jpg", "portrait/03-office-13.jpg",
        "square/01-outdoor-12.jpg", "square/02-studio-grey-11.jpg", "square/03-office-13.jpg",
    ]
    for d in result.files:
        data = d.file.read_bytes()
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "JPEG"
            assert im.size == ((256, 256) if d.framing == "1:1" else (256, 320))
            assert len(im.getexif()) == 0
        assert d.method == "face"
        assert digital_source_type(data) == TRAINED_ALGORITHMIC_MEDIA
        m = read_manifest(data, trust_anchors=identity.root_pem)
        assert m is not None and m.state == "Trusted"
        assert m.actions == ("c2pa.created",)
        assert m.digital_source_types == (TRAINED_ALGORITHMIC_MEDIA,)
        assert m.manifest["title"] == d.file.name


def test_report_lists_every_candidate_with_its_verdict(delivered, selection):
    result, _ = delivered
    report = json.loads(result.report.read_text())
    assert report["summary"] == {
        "candidates": 6, "accepted": 4, "rejected": 2, "stopped_early": 0, "selected": 3,
        "delivered_files": 6, "centre_cropped": 0, "upscale_flagged": 0,
    }
    assert report["rejection_counts"] == {"low_likeness": 2, "bad_hands": 1}
    assert report["likeness_calibration"]["baseline_distance"] == 0.35
    assert report["labels"]["xmp_digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA
    assert report["labels"]["inputs"] == "generated" and report["labels"]["ai_generated"]
    assert report["labels"]["c2pa_actions"] == ["c2pa.created"]
    assert report["labels"]["c2pa_development_certificate"] is True
    rows = report["candidates"]
    assert len(rows) == 6
    keys = {"file", "style", "seed", "accepted", "reasons", "scores", "selected", "rank",
            "stopped_early", "stopped_at_step"}
    assert all(keys <= set(r) for r in rows)
    assert rows[5]["reasons"] == ["low_likeness", "bad_hands"]
    assert rows[5]["scores"] == {"likeness": None}
    # the same photo as a non-selected candidate (row 3) gets no delivered files
    assert [len(r["delivered"]) for r in rows] == [2, 2, 2, 0, 0, 0]
    assert rows[1]["delivered"][0]["file"] == "square/01-outdoor-12.jpg"
    assert Selection.model_validate(
        {"candidates": [{k: r[k] for k in keys} for r in rows],
         "calibration": report["likeness_calibration"]}
    ) == selection


def test_sheet_chart_usage_and_trust_anchor_written(delivered, identity):
    result, _ = delivered
    with Image.open(result.contact_sheet) as sheet:
        assert sheet.format == "PNG" and sheet.width > 3 * 160
        # three tiles: the photo pixels are far from the flat paper colour
        assert np.asarray(sheet).std() > 30
    with Image.open(result.rejection_chart) as chart:
        assert chart.format == "PNG" and chart.width > 400
    usage = result.usage.read_text()
    assert "AI-generated" in usage and "trainedAlgorithmicMedia" in usage
    assert "not protected by copyright" in usage and "development" in usage
    assert result.trust_anchor is not None
    assert result.trust_anchor.read_bytes() == identity.root_pem


def test_no_face_centre_crop_png_unsigned(tmp_path, candidate_files):
    noise = np.random.default_rng(3).integers(0, 255, (64, 96, 3), dtype=np.uint8)
    src = save_clean(noise, tmp_path / "tiny-model-output.png")
    sel = Selection(candidates=(
        CandidateRecord(file=src, style="studio", seed=None, accepted=True, selected=True,
                        rank=1),
    ))
    cfg = DeliverConfig(width=128, framings=(Framing.PORTRAIT,), image_format="png",
                        sign_c2pa=False)
    result = deliver(sel, tmp_path / "out", cfg, backend=FakeFaceBackend())
    (only,) = result.files
    assert only.file.name == "01-studio.png" and only.method == "centre"
    assert (only.width, only.height) == (128, 160) and only.upscale_flagged  # 64 px -> 128
    data = only.file.read_bytes()
    assert digital_source_type(data) == TRAINED_ALGORITHMIC_MEDIA
    assert read_manifest(data) is None
    assert result.trust_anchor is None
    assert "no C2PA manifest" in result.usage.read_text()
    report = json.loads(result.report.read_text())
    assert report["summary"]["centre_cropped"] == 1 and report["rejection_counts"] == {}


def test_missing_or_unreadable_candidate_is_a_typed_error(tmp_path):
    gone = CandidateRecord(file=tmp_path / "gone.png", accepted=True, selected=True, rank=1)
    with pytest.raises(NotFoundError, match="gone.png"):
        deliver(Selection(candidates=(gone,)), tmp_path / "o", backend=FakeFaceBackend())
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    bad = CandidateRecord(file=junk, accepted=True, selected=True, rank=1)
    with pytest.raises(ImageError) as info:
        deliver(Selection(candidates=(bad,)), tmp_path / "o", backend=FakeFaceBackend())
    assert info.value.reason in (Reason.UNREADABLE, Reason.UNSUPPORTED_FORMAT)
    assert "junk.png" in str(info.value)
