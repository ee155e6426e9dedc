"""report.json: every candidate (file, style, seed, accepted, reasons, scores, selected, rank,
stopped early) with what was delivered for it, the likeness calibration and how the files are
labelled."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headshots.deliver._sheet import rejection_counts
from headshots.deliver._types import Selection

__all__ = ["Deliverable", "build_report", "write_report"]


@dataclass(frozen=True)
class Deliverable:
    """One delivered file."""

    source: Path  # the candidate it was made from
    rank: int  # the candidate's rank (unique in a selection)
    file: Path
    framing: str  # "1:1" / "4:5"
    width: int
    height: int
    method: str  # "face": aligned on the eyes; "centre": no face found, centred crop
    upscale: float
    upscale_flagged: bool
    c2pa_signed: bool

    def to_json(self, root: Path) -> dict[str, Any]:
        return {
            "file": _rel(self.file, root), "framing": self.framing, "width": self.width,
            "height": self.height, "method": self.method, "upscale": round(self.upscale, 3),
            "upscale_flagged": self.upscale_flagged, "c2pa_signed": self.c2pa_signed,
        }


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def build_report(
    selection: Selection, deliverables: Sequence[Deliverable], root: Path, *,
    labels: dict[str, Any], files: dict[str, str],
) -> dict[str, Any]:
    """The report as a JSON-ready dict (paths of delivered files relative to ``root``)."""
    by_rank: dict[int, list[Deliverable]] = {}
    for d in deliverables:
        by_rank.setdefault(d.rank, []).append(d)
    candidates = []
    for c in selection.candidates:
        row = c.model_dump(mode="json")
        row["delivered"] = [d.to_json(root) for d in by_rank.get(c.rank, [])] if c.rank else []
        candidates.append(row)
    accepted = sum(c.accepted for c in selection.candidates)
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "summary": {
            "candidates": len(selection.candidates),
            "accepted": accepted,
            "rejected": len(selection.candidates) - accepted,
            "stopped_early": len(selection.stopped_early),
            "selected": len(selection.selected),
            "delivered_files": len(deliverables),
            "centre_cropped": sum(d.method == "centre" for d in deliverables),
            "upscale_flagged": sum(d.upscale_flagged for d in deliverables),
        },
        "rejection_counts": rejection_counts(selection),
        "likeness_calibration": (
            selection.calibration.model_dump(mode="json") if selection.calibration else None
        ),
        "labels": labels,
        "files": files,
        "candidates": candidates,
    }


def write_report(report: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
