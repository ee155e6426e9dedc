"""The intake contact sheet: a thumbnail per photo with a verdict badge and the reasons."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from headshots.intake._check import Source
from headshots.intake._report import IntakeReport
from headshots.media import decode_image, downscale, draw_text, font

__all__ = ["render_sheet"]

_CELL = 220
_TEXT_H = 92
_GREEN, _RED, _INK, _PAPER = (30, 140, 70), (190, 40, 40), (30, 30, 30), (248, 248, 246)
_AMBER = (165, 100, 0)


def _thumb(source: bytes | Path) -> Image.Image:
    try:
        pixels = decode_image(source).pixels
    except Exception:  # noqa: BLE001 - unreadable files get a grey tile, their reason says why
        return Image.new("RGB", (_CELL, _CELL), (200, 200, 200))
    small, _ = downscale(pixels, _CELL)
    tile = Image.new("RGB", (_CELL, _CELL), (235, 235, 235))
    im = Image.fromarray(np.ascontiguousarray(small))
    tile.paste(im, ((_CELL - im.width) // 2, (_CELL - im.height) // 2))
    return tile


def render_sheet(
    report: IntakeReport, sources: Sequence[Source], path: Path, columns: int = 5
) -> Path:
    """Draw the sheet to ``path`` (PNG)."""
    by_name = dict(sources)
    n = len(report.photos)
    cols = max(1, min(columns, n))
    rows = max(1, -(-n // cols))
    head = 70
    pad = 12
    s = report.set
    title = f"{s.accepted} of {n} photos accepted — " + (
        "ready to train" if s.ready else f"not ready (need {s.min_accepted})"
    )
    title_w = int(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(
        title, font=font(22, bold=True)))
    sheet = Image.new("RGB", (max(cols * (_CELL + pad) + pad, title_w + 2 * pad),
                              head + rows * (_CELL + _TEXT_H + pad) + pad), _PAPER)
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, 14), title, fill=_GREEN if s.ready else _RED, font=font(22, bold=True))
    draw.text((pad, 44), (s.advice[0] if s.advice else "The set looks good.")[:120], fill=_INK,
              font=font(14))
    for i, photo in enumerate(report.photos):
        x = pad + (i % cols) * (_CELL + pad)
        y = head + (i // cols) * (_CELL + _TEXT_H + pad)
        source = by_name.get(photo.file)
        tile = _thumb(source) if source is not None else Image.new("RGB", (_CELL, _CELL))
        sheet.paste(tile, (x, y))
        colour = _GREEN if photo.accepted else _RED
        draw.rectangle((x, y, x + _CELL - 1, y + _CELL - 1), outline=colour, width=4)
        badge = f"{'✓' if photo.accepted else '✗'} {photo.verdict}"  # the table's word
        draw.rectangle((x, y, x + 86, y + 26), fill=colour)
        draw.text((x + 6, y + 3), badge, fill=(255, 255, 255), font=font(15, bold=True))
        draw_text(draw, (x, y + _CELL + 4), photo.file, 13, bold=True, fill=_INK, max_width=_CELL)
        quiet = "good photo" if not photo.notes else ""
        lines = textwrap.wrap(", ".join(photo.why()) or quiet, 34)
        notes = textwrap.wrap("; ".join(photo.notes), 34)  # in amber, after the reasons
        for j, (line, ink) in enumerate([*((t, colour) for t in lines),
                                         *((t, _AMBER) for t in notes)][:4]):
            draw.text((x, y + _CELL + 24 + j * 16), line, fill=ink, font=font(12))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, "PNG")
    return path
