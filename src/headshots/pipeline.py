"""Composition of the stages, for the CLI, the jobs and Python users. No pipeline logic lives
in the stages' callers beyond this module: each function here calls stages in order and
records what finished, so a run can resume stage by stage."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
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
    "judge_against",
    "load_references",
    "early_records",
    "judge_report",
    "reference_calibration",
    "judge_and_select",
    "to_selection",
    "preview_verdict",
    "PreviewVerdict",
    "RunState",
]

ProgressFn = Callable[[int, int, str], None]


def load_references(files: Sequence[Path], max_side: int = 1024) -> list[np.ndarray]:
    """The person's own photos (or training crops) as pixels; unreadable ones are skipped."""
    from headshots.errors import ImageError
    from headshots.media import decode_image, downscale

    out = []
    for path in files:
        try:
            out.append(downscale(decode_image(path).pixels, max_side)[0])
        except ImageError:
            continue
    return out


def early_records(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Index records of candidates the generator stopped part-way (no image was kept)."""
    return [r for r in records if isinstance(r, dict) and not (r.get("file") or r.get("path"))
            and (r.get("settings") or {}).get("early_rejected")]


def judge_report(results: Sequence[JudgeResult], selected: Sequence[str],
                 calibration: LikenessCalibration, early: Sequence[dict[str, Any]] = (),
                 name: Callable[[JudgeResult], str] | None = None) -> dict[str, Any]:
    """Every verdict (and every candidate stopped early) as one JSON-ready report.
    ``name`` says how a candidate is named in it (default: its file path)."""
    rank = {k: i + 1 for i, k in enumerate(selected)}
    label = name or (lambda r: str(r.candidate.path))
    return {
        "calibration": calibration.to_dict(),
        "candidates": [{
            "id": r.candidate.id, "file": label(r), "style": r.candidate.style,
            "seed": r.candidate.seed, "accepted": r.accepted,
            "reasons": [x.value for x in r.reasons], "details": r.details, "scores": r.scores,
            "selected": r.candidate.id in rank, "rank": rank.get(r.candidate.id),
        } for r in results] + [{
            "id": e.get("id"), "file": None, "style": e["style"], "seed": e["seed"],
            "accepted": False, "reasons": [e["settings"]["early_rejected"]],
            "stopped_early": True,
            "stopped_at_step": e["settings"].get("early_rejected_at_step"),
            "details": [f"stopped at step {e['settings'].get('early_rejected_at_step')}"],
            "scores": {}, "selected": False, "rank": None,
        } for e in early],
    }


def reference_calibration(images: Sequence[np.ndarray], backend: FaceBackend,
                          config: JudgeConfig | None = None) -> LikenessCalibration:
    """Calibrate likeness on the person's own photos (those with one clear face)."""
    embeddings = []
    for image in images:
        faces = backend.analyse(image, hands=False, mask=False).faces
        if faces:
            embeddings.append(backend.embed(image, faces[0]))
    return calibrate(embeddings, config)


def judge_against(
    candidates: Sequence[Candidate], references: Sequence[np.ndarray], *, top: int | None = None,
    backend: FaceBackend | None = None, workers: int = 1, on_progress: ProgressFn | None = None,
) -> tuple[list[JudgeResult], list[str], LikenessCalibration]:
    """Calibrate likeness on the person's own photos, judge every candidate and select:
    ``top`` None is 100 of a 1000-candidate run scaled to this one, a number exactly that many
    (or every accepted one when fewer pass)."""
    from headshots.errors import PhotoSetError
    from headshots.faces import default_backend

    b = backend or default_backend()
    calibration = reference_calibration(references, b)
    if not len(calibration.references):
        raise PhotoSetError("no face was found in the reference selfies",
                            "pass the folder of the person's own photos with --reference")
    # several workers judge in processes of their own, each with its own backend
    results, selected = judge_and_select(candidates, calibration, top=top or 100,
                                         backend=b if workers <= 1 else None, workers=workers,
                                         on_progress=on_progress, exact_top=top is not None)
    return results, selected, calibration


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
                  pose=r.features.get("pose", np.zeros(2, np.float32)),
                  head=r.features.get("head")) for r in accepted]
    return results, select_diverse(items, k, config)


def to_selection(results: Sequence[JudgeResult], selected: Sequence[str],
                 calibration: LikenessCalibration,
                 stopped_early: Sequence[Mapping[str, Any]] = ()) -> Any:
    """The deliver stage's ``Selection`` from judge results, the selected ids and the index
    records of candidates generation stopped early (``file`` empty, ``settings.early_rejected``
    the reason code, ``settings.early_rejected_at_step`` the step), so the report lists every
    candidate of the run."""
    from headshots.deliver import CandidateRecord, Selection
    from headshots.deliver import LikenessCalibration as Calibration
    from headshots.errors import InputError
    from headshots.types import Reason

    rank = {key: i + 1 for i, key in enumerate(selected)}
    records = [
        CandidateRecord(
            file=r.candidate.path, style=r.candidate.style, seed=r.candidate.seed,
            accepted=r.accepted, reasons=tuple(r.reasons), scores=dict(r.scores),
            selected=r.candidate.id in rank, rank=rank.get(r.candidate.id),
        )
        for r in results
    ]
    for e in stopped_early:
        settings = e.get("settings") or {}
        try:
            reason = Reason(str(settings.get("early_rejected")))
        except ValueError:
            raise InputError(
                f"a stopped-early record has reason {settings.get('early_rejected')!r}, not a "
                "reason code", "regenerate the candidates index with headshots generate") from None
        step = settings.get("early_rejected_at_step")
        seed = e.get("seed")
        records.append(CandidateRecord.stopped(
            reason, style=str(e.get("style") or "unknown"),
            seed=seed if isinstance(seed, int) else None,
            step=step if isinstance(step, int) and step >= 1 else None))
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
