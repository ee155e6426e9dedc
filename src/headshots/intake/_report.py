"""The intake report: per-photo verdicts and the set summary, with a stable JSON shape::

    {"photos": [{"file": "a.jpg", "accepted": true, "reasons": [], "metrics": {...},
                 "notes": ["..."]}, ...],
     "set": {"accepted": 9, "ready": true, "variety": {...}, "advice": ["..."]},
     "skipped": [{"file": "notes.txt", "why": "not a photo"}]}

``detail`` and ``notes`` appear only when there is something to say.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from headshots.types import Reason

__all__ = ["PhotoResult", "SetSummary", "IntakeReport"]


@dataclass
class PhotoResult:
    file: str
    reasons: list[Reason] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    detail: str = ""  # extra words for unreadable/unsupported/too_large
    notes: list[str] = field(default_factory=list)  # worth knowing, not a reason to drop it
    # not serialised: what later steps of the check need
    embedding: np.ndarray | None = field(default=None, repr=False)
    thumb: np.ndarray | None = field(default=None, repr=False)
    head_thumb: np.ndarray | None = field(default=None, repr=False)  # eye-aligned face view
    background: np.ndarray | None = field(default=None, repr=False)

    @property
    def accepted(self) -> bool:
        return not self.reasons

    def add(self, reason: Reason) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def why(self) -> list[str]:
        """The reasons in words, a duplicate naming the photo it repeats."""
        out = []
        for r in self.reasons:
            if r is Reason.DUPLICATE and self.metrics.get("duplicate_of"):
                out.append(f"almost the same as {self.metrics['duplicate_of']}, which is kept")
            else:
                out.append(r.explanation)
        return out

    @property
    def verdict(self) -> str:
        """One word for the table and the contact sheet alike."""
        return "keep" if self.accepted else "drop"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "accepted": self.accepted,
            "reasons": [r.value for r in self.reasons],
            "metrics": self.metrics,
        }
        if self.detail:
            out["detail"] = self.detail
        if self.notes:
            out["notes"] = self.notes
        return out


@dataclass
class SetSummary:
    accepted: int
    ready: bool
    variety: dict[str, Any]
    advice: list[str]
    identity: dict[str, Any]
    min_accepted: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "ready": self.ready,
            "min_accepted": self.min_accepted,
            "variety": self.variety,
            "identity": self.identity,
            "advice": self.advice,
        }


@dataclass
class IntakeReport:
    photos: list[PhotoResult]
    set: SetSummary
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why): not photos

    @property
    def accepted(self) -> list[PhotoResult]:
        return [p for p in self.photos if p.accepted]

    def to_dict(self) -> dict[str, Any]:
        return {"photos": [p.to_dict() for p in self.photos], "set": self.set.to_dict(),
                "skipped": [{"file": f, "why": why} for f, why in self.skipped]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)
