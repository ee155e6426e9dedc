"""Text on the rendered pictures: non-Latin file names are drawn with real glyphs, never as the
empty boxes a font draws for characters it does not have (".notdef")."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from headshots.media import _fonts, draw_text, drawable, fit_text, font, text_font

NAMES = {
    "chinese": "王小明的自拍.jpg",
    "japanese": "さくら_写真.png",
    "korean": "김민수 프로필.jpg",
    "greek": "Ελένη.jpg",
    "cyrillic": "Алёна.jpg",
    "latin": "José-Müller.jpg",
}


def ink(face, text: str) -> np.ndarray:
    im = Image.new("L", (40 * max(len(text), 1) + 20, 60), 0)
    ImageDraw.Draw(im).text((5, 5), text, fill=255, font=face)
    return np.asarray(im)


def notdef(face) -> np.ndarray:
    """What ``face`` draws for a character it does not have (a private-use code point)."""
    return ink(face, "\ue000")


@pytest.mark.parametrize("script", list(NAMES))
def test_every_character_of_a_name_is_a_real_glyph(script):
    face, shown = text_font(NAMES[script], 24)
    assert shown == NAMES[script]  # nothing replaced
    box = notdef(face)
    for ch in shown:
        glyph = ink(face, ch)
        if ch.strip():
            assert glyph.any(), ch
            assert not np.array_equal(glyph, box), f"{ch!r} drawn as an empty box"


def test_the_latin_font_alone_drew_cjk_as_boxes():
    # the defect: DejaVu Sans has no CJK glyphs, so every character was the same box
    dejavu = font(24)
    assert np.array_equal(ink(dejavu, "王"), notdef(dejavu))
    assert np.array_equal(ink(dejavu, "김"), ink(dejavu, "王"))
    assert text_font("王", 24)[0] is not dejavu


def test_faces_follow_the_script():
    assert text_font(NAMES["japanese"], 14)[0].getname()[0] == "Noto Sans CJK JP"
    assert text_font(NAMES["korean"], 14)[0].getname()[0] == "Noto Sans CJK KR"
    assert text_font(NAMES["chinese"], 14)[0].getname()[0] == "Noto Sans CJK SC"
    assert text_font(NAMES["cyrillic"], 14)[0].getname()[0] == "DejaVu Sans"


def test_undrawable_characters_become_question_marks_and_controls_go():
    assert drawable("a\u0e01b") == "a?b"  # Thai: in neither font
    assert drawable("evil\nname\u202e.jpg") == "evilname.jpg"  # newline, bidi override
    assert drawable("王\u0e01") == "王?"


def test_without_the_cjk_package_cjk_is_question_marks(monkeypatch):
    monkeypatch.setattr(_fonts, "_cjk_path", lambda: None)
    face, shown = text_font("王小明.jpg", 14)
    assert shown == "???.jpg" and face.getname()[0] == "DejaVu Sans"


def test_long_names_are_shortened_to_the_width():
    face, shown = fit_text("王" * 40 + ".jpg", 14, 200)
    assert shown.endswith("…") and face.getlength(shown) <= 200
    assert fit_text("short.jpg", 14, 200)[1] == "short.jpg"


def test_intake_sheet_draws_a_cjk_file_name(tmp_path, backend, photos):
    from headshots.intake import check_set, render_sheet
    from headshots.intake._sheet import _CELL, _PAPER
    from tests.intake.conftest import jpeg

    name = "王小明的自拍.jpg"
    sources = [(name, jpeg(photos["obama"]))]
    path = render_sheet(check_set(sources, backend), sources, tmp_path / "sheet.png")
    with Image.open(path) as im:
        px = np.asarray(im.convert("RGB"))
    x, y = 12, 70 + _CELL + 4  # where the sheet writes the first photo's name
    strip = px[y:y + 20, x:x + _CELL]
    expected = Image.new("RGB", (_CELL, 20), _PAPER)
    draw_text(ImageDraw.Draw(expected), (0, 0), name, 13, bold=True, fill=(30, 30, 30),
              max_width=_CELL)
    assert np.abs(strip.astype(int) - np.asarray(expected).astype(int)).max() < 40
    boxes = Image.new("RGB", (_CELL, 20), _PAPER)
    ImageDraw.Draw(boxes).text((0, 0), name, fill=(30, 30, 30), font=font(13, bold=True))
    assert np.abs(strip.astype(int) - np.asarray(boxes).astype(int)).max() > 100
