"""Streaming candidates to disk: one PNG per candidate and an append-only index, so a thousand
never sit in memory and a killed run resumes without redoing finished candidates."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

from headshots.generate._requests import Generated, GenerationRequest, Generator
from headshots.media import save_clean
from headshots.types import Candidate

__all__ = ["generate_candidates", "read_index", "candidate_from_record"]

ProgressFn = Callable[[int, int, str], None]


def read_index(index: Path) -> list[dict[str, Any]]:
    """Records of finished candidates; a torn last line (a crash mid-write) is ignored."""
    if not index.exists():
        return []
    records = []
    for line in index.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def candidate_from_record(record: dict[str, Any], root: Path) -> Candidate:
    return Candidate(
        id=record["id"], path=root / record["file"], style=record["style"], seed=record["seed"],
        prompt=record["prompt"], negative_prompt=record["negative_prompt"],
        settings=record["settings"],
    )


def generate_candidates(
    generator: Generator, requests: Sequence[GenerationRequest], out_dir: Path, *,
    batch_size: int = 4, on_progress: ProgressFn | None = None,
) -> tuple[list[Candidate], list[dict[str, Any]]]:
    """Generate what ``out_dir/index.jsonl`` does not hold yet. Returns (candidates with images,
    records of every request including early rejections)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.jsonl"
    done = {r["id"]: r for r in read_index(index)}
    todo = [r for r in requests if r.id not in done]
    total, finished = len(requests), len(requests) - len(todo)
    if on_progress:
        on_progress(finished, total, "")

    def key(r: GenerationRequest) -> tuple[str, int, int, int, float]:
        return (r.style, r.width, r.height, r.steps, r.guidance)

    with index.open("a") as sink:
        for _, group in groupby(sorted(todo, key=key), key=key):
            items = list(group)
            for start in range(0, len(items), batch_size):
                for g in generator.generate(items[start : start + batch_size]):
                    record = _record(g, out_dir)
                    sink.write(json.dumps(record) + "\n")
                    sink.flush()
                    done[record["id"]] = record
                    finished += 1
                    if on_progress:
                        on_progress(finished, total, g.request.id)
    records = [done[r.id] for r in requests]
    candidates = [candidate_from_record(r, out_dir) for r in records if r["file"]]
    return candidates, records


def _record(g: Generated, out_dir: Path) -> dict[str, Any]:
    r = g.request
    file = ""
    if g.pixels is not None:
        file = f"{r.style}/{r.seed:06d}.png"
        save_clean(g.pixels, out_dir / file)
    return {"id": r.id, "file": file, "style": r.style, "seed": r.seed, "prompt": r.prompt,
            "negative_prompt": r.negative_prompt, "settings": {**r.settings(), **g.info}}
