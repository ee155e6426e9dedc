"""What the person looks at first: a contact sheet of the selection (rank, style or source file,
likeness under each) and a bar chart of why the other candidates were rejected, those stopped
early during generation included."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from headshots.deliver._types import CandidateRecord, Selection
from headshots.media import draw_text, font, save_clean

__all__ = ["rejection_counts", "render_contact_sheet", "render_rejection_chart"]

_INK, _PAPER, _MUTED = (30, 30, 30), (248, 248, 246), (110, 110, 110)


def _likeness_text(c: CandidateRecord) -> str:
    value = c.scores.get("likeness")
    return "likeness n/a" if value is None else f"likeness {value:.2f}"


def _caption(c: CandidateRecord, stand_in: bool) -> str:
    """Style and seed; the source file's name where the style is unknown (a plain folder)."""
    if c.style != "unknown" or c.file is None:
        what = c.style + ("" if c.seed is None else f" · seed {c.seed}")
    else:
        what = c.file.name
    return f"stand-in · {what}" if stand_in else what


def render_contact_sheet(
    items: Sequence[tuple[CandidateRecord, np.ndarray]], path: Path, *, columns: int = 4,
    cell: int = 256, title: str = "",
    subtitle: str = "AI-generated — keep the label when you share them", stand_in: bool = False,
) -> Path:
    """One tile per (candidate, framed pixels), captioned with rank, style (or source file)
    and likeness; ``stand_in`` captions say the tiles are stand-in photographs."""
    n = max(len(items), 1)
    cols = min(columns, n)
    rows = -(-n // cols)
    pad, head, text_h = 14, 64, 50
    ratio = max((px.shape[0] / px.shape[1] for _, px in items), default=1.0)
    tile_h = round(cell * ratio) if items else 40
    width = max(pad + cols * (cell + pad), 520)  # room for the title line
    sheet = Image.new("RGB", (width, head + rows * (tile_h + text_h + pad) + pad), _PAPER)
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, 14), title or f"{len(items)} selected headshots", fill=_INK,
              font=font(22, bold=True))
    draw.text((pad, 42), subtitle, fill=_MUTED, font=font(13))
    if not items:
        draw.text((pad, head + 10), "nothing was selected", fill=_MUTED, font=font(16))
    for i, (record, pixels) in enumerate(items):
        x = pad + (i % cols) * (cell + pad)
        y = head + (i // cols) * (tile_h + text_h + pad)
        thumb = Image.fromarray(np.ascontiguousarray(pixels)).resize(
            (cell, round(cell * pixels.shape[0] / pixels.shape[1])), Image.Resampling.LANCZOS
        )
        sheet.paste(thumb, (x, y))
        badge = f"#{record.rank}"
        draw.rectangle((x, y, x + 16 + 11 * len(badge), y + 26), fill=_INK)
        draw.text((x + 7, y + 3), badge, fill=(255, 255, 255), font=font(16, bold=True))
        draw_text(draw, (x, y + tile_h + 5), _caption(record, stand_in), 14, bold=True,
                  fill=_INK, max_width=cell)
        draw.text((x, y + tile_h + 25), _likeness_text(record), fill=_MUTED, font=font(13))
    return save_clean(np.asarray(sheet), path)


def rejection_counts(selection: Selection) -> dict[str, int]:
    """Rejections per reason code, most frequent first (a candidate may have several; those
    stopped early during generation count too)."""
    counts = Counter(r.value for c in selection.rejected for r in c.reasons)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def render_rejection_chart(selection: Selection, path: Path) -> Path:
    """A horizontal bar chart: how many candidates each reason rejected."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from headshots.types import Reason

    counts = rejection_counts(selection)
    early = Counter(r.value for c in selection.stopped_early for r in c.reasons)
    total, rejected = len(selection.candidates), len(selection.rejected)
    fig, ax = plt.subplots(figsize=(8, (2.0 if early else 1.6) + 0.5 * max(len(counts), 1)),
                           dpi=110)
    try:
        if counts:
            codes = list(counts)[::-1]
            labels = [f"{code}\n{Reason(code).explanation}" for code in codes]
            judged = [counts[c] - early[c] for c in codes]
            ax.barh(labels, judged, color="#b84a3c", label="rejected by the judge")
            if early:
                ax.barh(labels, [early[c] for c in codes], left=judged, color="#e5a59b",
                        label="stopped early during generation")
                ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=8,
                          frameon=False)
            for j, code in enumerate(codes):
                ax.text(counts[code], j, f" {counts[code]}", va="center", fontsize=10)
            ax.set_xlabel("candidates rejected (one candidate can have several reasons)")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlim(0, max(counts.values()) * 1.15)
        else:
            ax.text(0.5, 0.5, "no candidate was rejected", ha="center", va="center",
                    fontsize=13, transform=ax.transAxes)
            ax.set_axis_off()
        title = f"{rejected} of {total} candidates rejected"
        if early:
            title += f", {len(selection.stopped_early)} of them stopped early during generation"
        # across the figure, not the axes: the reason labels take the left third
        fig.suptitle(title, x=0.015, ha="left", fontsize=13, fontweight="bold")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", labelsize=9)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, metadata={"Software": None})
    finally:
        plt.close(fig)
    return path
