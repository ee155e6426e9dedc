"""Streaming candidates to disk: one PNG per candidate and an append-only index, so a thousand
never sit in memory and a killed run resumes without redoing finished candidates.

Every index record carries ``made_with``, the generator's fingerprint (base model, LoRA hash,
precision, ...). A folder holding candidates made differently -- another LoRA, another prompt or
step count for the same id -- is refused with ``StaleCandidatesError`` instead of mixing old
images in; ``refresh=True`` discards exactly those and makes them again."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

from headshots.errors import StaleCandidatesError
from headshots.generate._identity import normalised
from headshots.generate._requests import Generated, GenerationRequest, Generator
from headshots.media import save_clean
from headshots.types import Candidate

__all__ = [
    "index_candidates",
    "candidate_from_record",
    "check_candidates",
    "generate_candidates",
    "read_index",
    "stale_candidates",
]

ProgressFn = Callable[[int, int, str], None]
# what a reader sees in the error; values of the others (hashes, prompts) are not shown
_SHOWN = {"precision", "lora_scale", "safety_checker", "early_rejection_at", "sampler", "steps",
          "guidance", "width", "height", "generator"}
_LABEL = {"base_model": "base model", "lora": "LoRA", "lora_scale": "LoRA scale",
          "safety_checker": "safety checker", "early_rejection_at": "early rejection",
          "negative_prompt": "negative prompt"}


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


def _image_name(record: dict[str, Any]) -> str | None:
    """The record's image file: ``file`` (as generate writes it) or ``path``; None when the
    generator stopped the candidate early and kept no image."""
    name = record.get("file", record.get("path"))
    return str(name) if name else None


def index_candidates(folder: Path) -> tuple[list[Candidate], list[dict[str, Any]]]:
    """(candidates with an image, records of those stopped early) from ``folder/index.jsonl``,
    as generate writes it or as another generator may: ``file`` or ``path`` is required, the
    other fields optional. A malformed record is an ``InputError`` naming its line."""
    from headshots.errors import InputError

    index = folder / "index.jsonl"
    candidates, early = [], []
    for i, record in enumerate(read_index(index), start=1):
        if not isinstance(record, dict):
            raise InputError(f"{index} line {i} is not a JSON object",
                             'write one {"id", "file" (or "path"), "style", "seed"} per line')
        name = _image_name(record)
        if name is None:
            if (record.get("settings") or {}).get("early_rejected"):
                early.append(record)
            continue
        seed = record.get("seed")
        if seed is not None and not isinstance(seed, int):
            raise InputError(f"{index} line {i}: seed {seed!r} is not a whole number",
                             "write the seed as an integer, or null when unknown")
        candidates.append(Candidate(
            id=str(record.get("id") or Path(name).stem), path=folder / name,
            style=str(record.get("style") or "unknown"), seed=seed,
            prompt=str(record.get("prompt") or ""),
            negative_prompt=str(record.get("negative_prompt") or ""),
            settings=dict(record.get("settings") or {})))
    return candidates, early


def candidate_from_record(record: dict[str, Any], root: Path) -> Candidate:
    return Candidate(
        id=record["id"], path=root / record["file"], style=record["style"], seed=record["seed"],
        prompt=record["prompt"], negative_prompt=record["negative_prompt"],
        settings=record["settings"],
    )


def _differences(record: dict[str, Any], made_with: dict[str, Any],
                 request: GenerationRequest | None) -> list[str]:
    """What differs between an index record and what would be made now, as short phrases."""
    old = record.get("made_with")
    if not isinstance(old, dict):
        return ["made before settings were recorded"]
    pairs = [(k, old.get(k), made_with.get(k)) for k in sorted(set(old) | set(made_with))]
    if request is not None:
        settings = record.get("settings") or {}
        pairs += [("prompt", record.get("prompt"), request.prompt),
                  ("negative_prompt", record.get("negative_prompt"), request.negative_prompt)]
        pairs += [(k, settings.get(k), v) for k, v in request.settings().items()]
    out = []
    for key, was, now in pairs:
        if was == now:
            continue
        label = _LABEL.get(key, key)
        out.append(f"{label} {_show(was)} → {_show(now)}" if key in _SHOWN else label)
    return out


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return "off" if value is None else str(value)


def stale_candidates(
    out_dir: Path, made_with: dict[str, Any], requests: Iterable[GenerationRequest] = ()
) -> list[tuple[dict[str, Any], list[str]]]:
    """Records in ``out_dir/index.jsonl`` made under another fingerprint, or made for one of
    ``requests``' ids with another prompt, size, steps or guidance; each with what differs."""
    made_with = normalised(made_with)
    wanted = {r.id: r for r in requests}
    out = []
    for record in read_index(out_dir / "index.jsonl"):
        diff = _differences(record, made_with, wanted.get(record.get("id", "")))
        if diff:
            out.append((record, diff))
    return out


def check_candidates(
    out_dir: Path, made_with: dict[str, Any], requests: Iterable[GenerationRequest] = ()
) -> None:
    """Raise ``StaleCandidatesError`` when ``out_dir`` holds candidates made differently.
    Cheap: front ends call it before loading a model."""
    stale = stale_candidates(out_dir, made_with, requests)
    if not stale:
        return
    what = sorted({d for _, diff in stale for d in diff})
    n = len(stale)
    raise StaleCandidatesError(
        f"{out_dir} already holds {n} candidate{'s' if n != 1 else ''} made differently "
        f"({'; '.join(what)})",
        "pass --refresh to discard them and generate again, or choose a new output folder")


def _rewrite_index(index: Path, records: Sequence[dict[str, Any]]) -> None:
    tmp = index.with_name(index.name + ".part")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
    os.replace(tmp, index)


def _discard(out_dir: Path, stale: Sequence[dict[str, Any]]) -> None:
    """Remove stale records from the index first (a crash leaves orphan files, never records
    without files), then their images."""
    index = out_dir / "index.jsonl"
    gone = {json.dumps(r, sort_keys=True) for r in stale}
    _rewrite_index(index, [r for r in read_index(index)
                           if json.dumps(r, sort_keys=True) not in gone])
    root = out_dir.resolve()
    for r in stale:
        file = (out_dir / str(r.get("file") or "")).resolve()
        if r.get("file") and file.is_relative_to(root) and file.is_file():
            file.unlink()


def _repair_tail(index: Path) -> None:
    """Cut a torn last line (a crash mid-write) so the next record starts on its own line."""
    if not index.exists():
        return
    data = index.read_bytes()
    if data and not data.endswith(b"\n"):
        with index.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def generate_candidates(
    generator: Generator, requests: Sequence[GenerationRequest], out_dir: Path, *,
    batch_size: int = 4, on_progress: ProgressFn | None = None, refresh: bool = False,
) -> tuple[list[Candidate], list[dict[str, Any]]]:
    """Generate what ``out_dir/index.jsonl`` does not hold yet. Returns (candidates with images,
    records of every request including early rejections). Candidates made differently are an
    error, or with ``refresh`` discarded and made again."""
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.jsonl"
    made_with = normalised(generator.fingerprint())
    if refresh:
        _discard(out_dir, [r for r, _ in stale_candidates(out_dir, made_with, requests)])
    check_candidates(out_dir, made_with, requests)
    _repair_tail(index)
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
                    record = _record(g, out_dir, made_with)
                    sink.write(json.dumps(record) + "\n")
                    sink.flush()
                    done[record["id"]] = record
                    finished += 1
                    if on_progress:
                        on_progress(finished, total, g.request.id)
    records = [done[r.id] for r in requests]
    candidates = [candidate_from_record(r, out_dir) for r in records if r["file"]]
    return candidates, records


def _record(g: Generated, out_dir: Path, made_with: dict[str, Any]) -> dict[str, Any]:
    r = g.request
    file = ""
    if g.pixels is not None:
        file = f"{r.style}/{r.seed:06d}.png"
        save_clean(g.pixels, out_dir / file)
    return {"id": r.id, "file": file, "style": r.style, "seed": r.seed, "prompt": r.prompt,
            "negative_prompt": r.negative_prompt, "settings": {**r.settings(), **g.info},
            "made_with": made_with}
