"""What the judge hands to delivery: every candidate of the run, with its verdict, scores, and
(for the chosen few) a rank; candidates generation stopped early have no image but are listed
too. JSON-friendly, so report.json is just these records."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from headshots.types import Reason

__all__ = ["CandidateRecord", "LikenessCalibration", "Selection"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CandidateRecord(_Frozen):
    """One candidate: judged, or stopped early during generation (then without an image)."""

    file: Path | None = Field(
        description="the candidate image as generated (PNG or JPEG); None when generation "
        "stopped it early and kept no image"
    )
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
    stopped_early: bool = Field(
        False, description="generation stopped it part-way (an early check failed); no image"
    )
    stopped_at_step: int | None = Field(
        None, ge=1, description="the denoising step it was stopped at (when stopped early)"
    )

    @classmethod
    def stopped(cls, reason: Reason, *, style: str = "unknown", seed: int | None = None,
                step: int | None = None) -> CandidateRecord:
        """A candidate generation stopped early for ``reason`` (it kept no image)."""
        return cls(file=None, style=style, seed=seed, accepted=False, reasons=(reason,),
                   stopped_early=True, stopped_at_step=step)

    @property
    def label(self) -> str:
        """How messages name it: the file name, or the style and seed of a stopped one."""
        if self.file is not None:
            return self.file.name
        return f"{self.style} seed {self.seed} (stopped early)"

    @model_validator(mode="after")
    def _consistent(self) -> CandidateRecord:
        name = self.label
        if not self.accepted and not self.reasons:
            raise ValueError(f"{name}: a rejected candidate needs at least one reason")
        if self.accepted and self.reasons:
            raise ValueError(f"{name}: an accepted candidate has no rejection reasons")
        if self.selected and (not self.accepted or self.rank is None):
            raise ValueError(f"{name}: a selected candidate must be accepted and ranked")
        if not self.selected and self.rank is not None:
            raise ValueError(f"{name}: only selected candidates carry a rank")
        if self.file is None and not self.stopped_early:
            raise ValueError(f"{name}: only a candidate stopped early has no image file")
        if self.stopped_early and self.accepted:
            raise ValueError(f"{name}: a candidate stopped early was rejected")
        if self.stopped_at_step is not None and not self.stopped_early:
            raise ValueError(f"{name}: only a candidate stopped early has a stopped_at_step")
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

    candidates: tuple[CandidateRecord, ...] = Field(
        description="every candidate of the run: judged, or stopped early during generation"
    )
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
        """Every candidate not accepted, those stopped early during generation included."""
        return tuple(c for c in self.candidates if not c.accepted)

    @property
    def stopped_early(self) -> tuple[CandidateRecord, ...]:
        return tuple(c for c in self.candidates if c.stopped_early)
