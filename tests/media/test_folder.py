"""Which files of a folder count as photos, and what is skipped with a word."""

from __future__ import annotations

import shutil

from headshots.media import scan_folder
from tests.conftest import DATA


def test_scan_keeps_images_and_names_what_it_skips(tmp_path):
    shutil.copy(DATA / "obama.jpg", tmp_path / "obama.jpg")
    shutil.copy(DATA / "obama2.jpg", tmp_path / "IMG_0002")  # a photo without a suffix
    (tmp_path / "broken.jpg").write_bytes(b"not really")  # meant as a photo: decoding reports it
    (tmp_path / "scan.tiff").write_bytes(b"II*\x00")  # an image we do not accept: reported too
    (tmp_path / "notes.txt").write_text("remember: smile")
    (tmp_path / "old").mkdir()
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    (tmp_path / "link.jpg").symlink_to(tmp_path / "obama.jpg")
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    scan = scan_folder(tmp_path)
    assert [p.name for p in scan.images] == ["IMG_0002", "broken.jpg", "link.jpg", "obama.jpg",
                                              "scan.tiff"]
    assert scan.skipped == [
        ("gone.jpg", "a link to a file that no longer exists"),
        ("notes.txt", "not a photo"),
        ("old/", "a folder: photos in subfolders are not looked at"),
    ]
    assert scan.skipped_text().startswith("gone.jpg (a link to a file that no longer exists), ")
    assert scan.skipped_text(at_most=1) == (
        "gone.jpg (a link to a file that no longer exists) and 2 more")
