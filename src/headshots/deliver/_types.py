"""What the judge hands to delivery: every candidate it looked at, with its verdict, scores,
and (for the chosen few) a rank. JSON-friendly, so report.json is just these records."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from headshots.types import Reason

__all__ = ["CandidateRecord", "LikenessCalibration", "Selection"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CandidateRecord(_Frozen):
    """One judged candidate image."""

    file: Path = Field(description="the candidate image as generated (PNG or JPEG)")
    style: str = Field("unknown", description="style name it was generated in, e.g. 'studio-grey'")
    seed: int | None = Field(None, description="generation seed, so it can be made again")
    accepted: bool = Field(description="passed every judge check")
    reasons: tuple[Reason, ...] = Field(
        (), description="why it was rejected (empty when accepted; never empty when rejected)"
    )
    scores: dict[str, float | None] = Field(
        default_factory=dict,
        description="measured numbers, e.g. likeness, quality, rank_score (None: not measurable)",
    )
    selected: bool = Field(False, description="chosen for delivery")
    rank: int | None = Field(None, ge=1, description="1 = best among the selected; None otherwise")

    @model_validator(mode="after")
    def _consistent(self) -> CandidateRecord:
        if not self.accepted and not self.reasons:
            raise ValueError(f"{self.file.name}: a rejected candidate needs at least one reason")
        if self.accepted and self.reasons:
            raise ValueError(f"{self.file.name}: an accepted candidate has no rejection reasons")
        if self.selected and (not self.accepted or self.rank is None):
            raise ValueError(f"{self.file.name}: a selected candidate must be accepted and ranked")
        if not self.selected and self.rank is not None:
            raise ValueError(f"{self.file.name}: only selected candidates carry a rank")
        return self


class LikenessCalibration(_Frozen):
    """How likeness was judged for this person (their own photos set the baseline)."""

    references: int = Field(ge=0, description="reference selfies the likeness was measured against")
    baseline_distance: float | None = Field(
        None, description="the person's own leave-one-out mean embedding distance"
    )
    threshold: float | None = Field(
        None, description="candidates further than this from the references were low_likeness"
    )
    method: str = Field("", description="one line on how likeness was computed")


class Selection(_Frozen):
    """Every candidate judged (accepted or not) and which were selected, in rank order."""

    candidates: tuple[CandidateRecord, ...] = Field(description="all judged candidates")
    calibration: LikenessCalibration | None = Field(None, description="likeness calibration")

    @model_validator(mode="after")
    def _ranks_unique(self) -> Selection:
        ranks = [c.rank for c in self.candidates if c.rank is not None]
        if len(ranks) != len(set(ranks)):
            raise ValueError(f"ranks must be unique, got {sorted(ranks)}")
        return self

    @property
    def selected(self) -> tuple[CandidateRecord, ...]:
        """The selected candidates, best first."""
        chosen = [c for c in self.candidates if c.selected]
        return tuple(sorted(chosen, key=lambda c: c.rank or 0))

    @property
    def rejected(self) -> tuple[CandidateRecord, ...]:
        return tuple(c for c in self.candidates if not c.accepted)
