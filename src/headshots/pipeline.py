"""Composition of the stages, for the CLI, the jobs and Python users. No pipeline logic lives
in the stages' callers beyond this module: each function here calls stages in order and
records what finished, so a run can resume stage by stage."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from headshots.faces import FaceBackend
from headshots.judge import JudgeConfig, JudgeResult, LikenessCalibration, calibrate
from headshots.judge import judge_candidates as _judge
from headshots.select import Item, SelectConfig, effective_k, select_diverse
from headshots.store.paths import RunPaths
from headshots.types import Candidate

__all__ = [
    "reference_calibration",
    "judge_and_select",
    "to_selection",
    "preview_verdict",
    "PreviewVerdict",
    "RunState",
]

ProgressFn = Callable[[int, int, str], None]


def reference_calibration(images: Sequence[np.ndarray], backend: FaceBackend,
                          config: JudgeConfig | None = None) -> LikenessCalibration:
    """Calibrate likeness on the person's own photos (those with one clear face)."""
    embeddings = []
    for image in images:
        faces = backend.analyse(image, hands=False, mask=False).faces
        if faces:
            embeddings.append(backend.embed(image, faces[0]))
    return calibrate(embeddings, config)


def judge_and_select(
    candidates: Sequence[Candidate], calibration: LikenessCalibration, *, top: int = 100,
    judge_config: JudgeConfig | None = None, backend: FaceBackend | None = None,
    workers: int = 1, on_progress: ProgressFn | None = None, exact_top: bool = False,
) -> tuple[list[JudgeResult], list[str]]:
    """Judge every candidate, then pick the diverse top-K of the accepted: ``top`` itself when
    ``exact_top`` (the person asked for that many), else ``top`` of a 1000-candidate run scaled
    to this run's size. Returns the results and the selected candidate ids, best first."""
    results = _judge(candidates, calibration, judge_config, backend=backend, workers=workers,
                     on_progress=on_progress)
    accepted = [r for r in results if r.accepted]
    config = SelectConfig(k=top)
    k = min(top, len(accepted)) if exact_top else effective_k(config, len(results), len(accepted))
    items = [Item(key=r.candidate.id, score=float(r.scores.get("rank_score") or 0.0),
                  thumb=r.features["thumb"], colour=r.features["colour"], style=r.candidate.style,
                  pose=r.features.get("pose", np.zeros(2, np.float32))) for r in accepted]
    return results, select_diverse(items, k, config)


def to_selection(results: Sequence[JudgeResult], selected: Sequence[str],
                 calibration: LikenessCalibration) -> Any:
    """The deliver stage's ``Selection`` from judge results and the selected ids."""
    from headshots.deliver import CandidateRecord, Selection
    from headshots.deliver import LikenessCalibration as Calibration

    rank = {key: i + 1 for i, key in enumerate(selected)}
    records = [
        CandidateRecord(
            file=r.candidate.path, style=r.candidate.style, seed=r.candidate.seed,
            accepted=r.accepted, reasons=tuple(r.reasons), scores=dict(r.scores),
            selected=r.candidate.id in rank, rank=rank.get(r.candidate.id),
        )
        for r in results
    ]
    cal = calibration.to_dict()
    return Selection(candidates=tuple(records), calibration=Calibration(
        references=cal["references"], baseline_distance=cal["baseline_distance"],
        threshold=cal["threshold"], method=cal["method"]))


@dataclass(frozen=True)
class PreviewVerdict:
    go: bool
    accepted: int
    total: int
    median_likeness: float | None
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"go": self.go, "accepted": self.accepted, "total": self.total,
                "median_likeness": self.median_likeness, "why": self.why}


def preview_verdict(results: Sequence[JudgeResult], min_share: float = 0.25) -> PreviewVerdict:
    """Go when at least ``min_share`` of the preview passes the judge: below that a full run
    would mostly make rejects, and the fine-tune (or the selfies) should be fixed first."""
    accepted = [r for r in results if r.accepted]
    likeness = [float(v) for r in results if (v := r.scores.get("likeness")) is not None]
    median = float(np.median(likeness)) if likeness else None
    need = max(1, int(np.ceil(min_share * len(results))))
    go = len(accepted) >= need
    if go:
        why = f"{len(accepted)} of {len(results)} preview images pass the judge"
    else:
        counts: dict[str, int] = {}
        for r in results:
            for reason in r.reasons:
                counts[reason.value] = counts.get(reason.value, 0) + 1
        top = ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
        passed = (f"only {len(accepted)} of {len(results)} preview images pass" if accepted
                  else f"none of the {len(results)} preview images pass")
        why = f"{passed} (need {need}); main reasons: {top or 'none'}"
    return PreviewVerdict(go, len(accepted), len(results), median, why)


class RunState:
    """Which stages of a run folder have finished (``state.json``), so re-running skips them."""

    def __init__(self, root: Path) -> None:
        self.paths = RunPaths(root)
        self.data: dict[str, Any] = (json.loads(self.paths.state.read_text())
                                     if self.paths.state.exists() else {"done": {}})

    def done(self, stage: str) -> bool:
        return stage in self.data["done"]

    def info(self, stage: str) -> dict[str, Any]:
        return dict(self.data["done"].get(stage, {}))

    def mark(self, stage: str, **info: Any) -> None:
        self.data["done"][stage] = info
        self.paths.root.mkdir(parents=True, exist_ok=True)
        tmp = self.paths.state.with_suffix(".part")
        tmp.write_text(json.dumps(self.data, indent=2))
        tmp.replace(self.paths.state)
