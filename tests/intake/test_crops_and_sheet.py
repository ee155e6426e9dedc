from __future__ import annotations

import numpy as np
from PIL import Image

from headshots.config import IntakeConfig
from headshots.intake import check_set, prepare_crops, render_sheet
from tests.intake.conftest import jpeg


def test_crops_are_aligned_square_and_metadata_free(tmp_path, backend, photos):
    sources = [(f"{n}.jpg", jpeg(photos[n])) for n in ("obama", "obama2", "obama3")]
    sources.append(("junk.jpg", b"junk"))
    report = check_set(sources, backend)
    crops = prepare_crops(report, sources, backend, tmp_path, IntakeConfig(crop_resolution=256))
    assert [p.name for p in crops] == ["001-obama.png", "002-obama2.png", "003-obama3.png"]
    eye_heights = []
    for p in crops:
        with Image.open(p) as im:
            assert im.size == (256, 256) and im.mode == "RGB"
            assert not im.info.get("exif") and not im.getexif()
            pixels = np.asarray(im)
        face = backend.analyse(pixels, hands=False, mask=False).faces[0]
        eyes = face.keypoints[:2]
        assert abs(eyes[0, 1] - eyes[1, 1]) < 256 * 0.03  # level
        eye_heights.append(eyes[:, 1].mean())
        assert 0.3 * 256 < eyes[:, 0].mean() < 0.7 * 256  # centred
    assert np.ptp(eye_heights) < 256 * 0.05  # consistent framing across photos


def test_sheet_renders_every_photo(tmp_path, backend, photos):
    sources = [("obama.jpg", jpeg(photos["obama"])), ("biden.jpg", jpeg(photos["biden"])),
               ("broken.jpg", b"junk")]
    report = check_set(sources, backend)
    path = render_sheet(report, sources, tmp_path / "sheet.png")
    with Image.open(path) as im:
        assert im.width >= 3 * 220 and im.height > 300
        px = np.asarray(im.convert("RGB"))
    # the badge colours are there: green for the kept photo, red for the others
    assert ((px[..., 1] > 120) & (px[..., 0] < 60)).any()
    assert ((px[..., 0] > 170) & (px[..., 1] < 60)).any()
