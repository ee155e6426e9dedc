from __future__ import annotations

import io

import cv2
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
    assert [p.name for p in crops.paths] == ["001-obama.png", "002-obama2.png",
                                             "003-obama3.png"]
    eye_heights = []
    for p in crops.paths:
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


def test_crops_come_from_the_full_resolution_photo_with_a_manifest(tmp_path, backend, photos):
    from headshots.intake import CROP_MANIFEST, read_crop_manifest

    big = cv2.resize(photos["obama"], None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, 800, 800, 800, 800, cv2.BORDER_REPLICATE)  # 3520 x 4000
    sources = [("big.jpg", jpeg(big, 95)), ("small.jpg", jpeg(photos["obama2"]))]
    report = check_set(sources, backend)
    assert [p.file for p in report.accepted] == ["big.jpg", "small.jpg"]
    # the check decodes the 4000 px JPEG at half size; the crop must not
    assert IntakeConfig().decode.decode_max_side <= 4000 / 2
    prepared = prepare_crops(report, sources, backend, tmp_path, IntakeConfig(crop_resolution=1024))
    manifest = read_crop_manifest(tmp_path)
    assert prepared.manifest == tmp_path / CROP_MANIFEST and set(manifest) == {
        "001-big.png", "002-small.png"}
    big_info, small_info = manifest["001-big.png"], manifest["002-small.png"]
    assert big_info.original_size == (4000, 3520) and big_info.resolution == 1024
    assert big_info.scale < 1 and not big_info.upscaled  # detail to spare at 1024 px
    assert small_info.original_size == (800, 417) and small_info.upscaled  # reported, not hidden
    assert [c.file for c in prepared.upscaled] == ["002-small.png"]
    assert manifest == {c.file: c for c in prepared.crops}
    # the recorded window is where the crop sits in the photo levelled and scaled like it
    with Image.open(tmp_path / "001-big.png") as im:
        crop = np.asarray(im)
    face = backend.analyse(crop, hands=False, mask=False).faces[0]
    eyes = face.keypoints[:2]
    assert abs(eyes[0, 1] - eyes[1, 1]) < 1024 * 0.03
    k, a = big_info.scale, np.radians(big_info.angle)
    assert 0 < abs(big_info.angle) < 15  # obama's head is a little tilted in the photo
    lin = k * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    full = np.asarray(Image.open(io.BytesIO(sources[0][1])).convert("RGB"))
    h, w = full.shape[:2]
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]]) @ lin.T
    m = np.hstack([lin, -corners.min(axis=0)[:, None]])
    scaled = cv2.warpAffine(full, m, big_info.scaled_size[::-1], flags=cv2.INTER_AREA)
    top, left = big_info.crop_top_left
    window = scaled[top:top + 1024, left:left + 1024].astype(np.float32)
    assert window.shape == crop.shape
    assert np.abs(window - crop).mean() < 4  # same content, same place
    shifted = scaled[top + 40:top + 1064, left:left + 1024].astype(np.float32)
    assert np.abs(shifted - crop).mean() > 2 * np.abs(window - crop).mean()


def test_preparing_again_replaces_the_crops_it_wrote(tmp_path, backend, photos):
    sources = [(f"{n}.jpg", jpeg(photos[n])) for n in ("obama", "obama2")]
    report = check_set(sources, backend)
    prepare_crops(report, sources, backend, tmp_path, IntakeConfig(crop_resolution=128))
    (tmp_path / "mine.png").write_bytes(b"not ours")
    report = check_set(sources[1:], backend)
    prepared = prepare_crops(report, sources[1:], backend, tmp_path,
                             IntakeConfig(crop_resolution=128))
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["001-obama2.png", "mine.png"]
    assert [p.name for p in prepared.paths] == ["001-obama2.png"]
