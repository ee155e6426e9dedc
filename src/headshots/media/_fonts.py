"""Fonts for every rendered picture. DejaVu Sans (bundled with matplotlib) draws Latin, Greek,
Cyrillic, Arabic and Hebrew; text it cannot draw (Chinese, Japanese and Korean file names) is
drawn in Noto Sans CJK from the ``noto-cjk-sans-otc`` package (OFL-1.1, a data-only wheel). A
character no font has is drawn as "?", never as an empty box."""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from PIL import ImageDraw, ImageFont

__all__ = ["font", "draw_text", "drawable", "fit_text", "text_font"]

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
_CJK_FACES = {"ja": 0, "ko": 1, "zh": 2}  # faces of NotoSansCJK-Regular.ttc: JP, KR, SC


@cache
def font(size: int, bold: bool = False) -> Font:
    """DejaVu Sans at ``size`` px: the face of every title, badge and label."""
    path = _dejavu(bold)
    return ImageFont.truetype(str(path), size) if path.exists() else ImageFont.load_default()


def _dejavu(bold: bool) -> Path:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


@cache
def _cmap(path: str, index: int = 0) -> frozenset[int]:
    """The code points a font file's face has glyphs for (empty when it cannot be read)."""
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, fontNumber=index, lazy=True) as f:
            return frozenset(f.getBestCmap() or {})
    except Exception:  # noqa: BLE001 - an unreadable font simply draws nothing
        return frozenset()


@cache
def _cjk_path() -> str | None:
    try:
        import noto_cjk_sans_otc
    except ImportError:  # optional at run time: without it CJK characters are drawn as "?"
        return None
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    return str(path) if path.is_file() else None


@cache
def _cjk_font(path: str, size: int, index: int) -> Font:
    return ImageFont.truetype(path, size, index=index)


def _language(text: str) -> str:
    """Which CJK face draws ``text`` best: kana -> Japanese, hangul -> Korean, else Chinese."""
    if any(0x3040 <= ord(c) <= 0x30FF for c in text):
        return "ja"
    if any(0xAC00 <= ord(c) <= 0xD7A3 or 0x1100 <= ord(c) <= 0x11FF for c in text):
        return "ko"
    return "zh"


def _clean(text: str) -> str:
    """Control and format characters (newlines, bidi overrides) dropped: one plain line."""
    return "".join(c for c in text if unicodedata.category(c)[0] != "C" or c == " ")


def text_font(text: str, size: int, bold: bool = False) -> tuple[Font, str]:
    """The font that draws ``text`` and the text as it will be drawn: DejaVu when it has every
    character, else Noto Sans CJK; characters neither has become "?"."""
    text = _clean(text)
    latin = _cmap(str(_dejavu(bold)))
    if all(ord(c) in latin for c in text):
        return font(size, bold), text
    cjk_path = _cjk_path()
    if cjk_path is not None:
        index = _CJK_FACES[_language(text)]
        cjk = _cmap(cjk_path, index)
        if cjk:
            shown = "".join(c if ord(c) in cjk or ord(c) in latin else "?" for c in text)
            if all(ord(c) in cjk for c in shown):
                return _cjk_font(cjk_path, size, index), shown
            text = shown  # a mix neither font covers alone (CJK with Arabic): DejaVu's part
    return font(size, bold), "".join(c if ord(c) in latin else "?" for c in text)


def drawable(text: str) -> str:
    """``text`` as it will be drawn (one line; undrawable characters as "?")."""
    return text_font(text, 12)[1]


def fit_text(text: str, size: int, max_width: float, bold: bool = False) -> tuple[Font, str]:
    """Like ``text_font``, shortened with "…" until it is at most ``max_width`` px wide."""
    face, shown = text_font(text, size, bold)
    if face.getlength(shown) <= max_width:
        return face, shown
    while shown and face.getlength(shown + "…") > max_width:
        shown = shown[:-1]
    return face, shown.rstrip() + "…"


def draw_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, *,
              fill: tuple[int, int, int], bold: bool = False,
              max_width: float | None = None) -> None:
    """Draw one line of any text (file names included) at ``xy``, in a font that has it."""
    face, shown = (text_font(text, size, bold) if max_width is None
                   else fit_text(text, size, max_width, bold))
    draw.text(xy, shown, fill=fill, font=face)
