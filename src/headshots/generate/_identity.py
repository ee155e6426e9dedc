"""What makes a candidate, as data: the base model's identity, the LoRA file's hash and the
settings that change pixels. Computed without loading a model, so a folder of candidates made
differently is refused before any slow work."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from headshots.errors import NotFoundError
from headshots.generate._config import GenerateConfig

__all__ = ["base_model_identity", "diffusers_fingerprint", "file_digest", "find_lora"]

_WEIGHTS = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")
_SAMPLE = 1 << 20  # bytes read at the start, middle and end of each weight file
SAMPLER = "euler"  # our own loop (generate/_diffusers.py); change it and old candidates are stale


def file_digest(path: Path) -> str:
    """SHA-256 of a whole file (a LoRA is tens of MB), first 16 hex digits."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _sampled_digest(h: Any, path: Path) -> None:
    size = path.stat().st_size
    h.update(f"{size}".encode())
    with path.open("rb") as f:
        if size <= 3 * _SAMPLE:
            h.update(f.read())
            return
        for offset in (0, size // 2, size - _SAMPLE):
            f.seek(offset)
            h.update(f.read(_SAMPLE))


def base_model_identity(source: str | Path) -> str:
    """A local diffusers folder: a hash of every config and of 3 MiB sampled from each weight
    file (a different checkpoint differs there; hashing gigabytes would take a minute). A hub
    id: the id itself. Moving or copying a folder keeps its identity."""
    path = Path(source)
    h = hashlib.sha256()
    if not path.is_dir():
        return "hub:" + str(source)
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        if file.suffix == ".json":
            h.update(rel.encode() + b"\0" + file.read_bytes())
        elif file.suffix in _WEIGHTS:
            h.update(rel.encode() + b"\0")
            _sampled_digest(h, file)
    return h.hexdigest()[:16]


def find_lora(lora: Path) -> Path:
    """The LoRA file of ``lora``: a run folder, its train/ folder or the file itself."""
    from headshots.finetune import LORA_NAME

    lora = Path(lora)
    if lora.is_file():
        return lora
    folder = lora / "train" if (lora / "train" / LORA_NAME).exists() else lora
    if not (folder / LORA_NAME).exists():
        raise NotFoundError(f"no {LORA_NAME} in {folder}",
                            "pass the run folder of `headshots train`")
    return folder / LORA_NAME


def diffusers_fingerprint(
    base_model: str | Path, lora: Path | None, config: GenerateConfig, precision: str, *,
    early: bool,
) -> dict[str, Any]:
    """What a candidate of the diffusers generator depends on beyond its own request; stored
    with every index record. ``precision`` is the resolved one (fp32 / fp16 / bf16)."""
    return {
        "generator": "diffusers",
        "base_model": base_model_identity(base_model),
        "lora": file_digest(find_lora(lora)) if lora is not None else None,
        "lora_scale": config.lora_scale,
        "precision": precision,
        "sampler": SAMPLER,
        "safety_checker": config.safety_checker,
        "early_rejection_at": config.early_at if early else None,
    }


def normalised(fingerprint: dict[str, Any]) -> dict[str, Any]:
    """As it reads back from the index (tuples become lists, keys strings)."""
    result: dict[str, Any] = json.loads(json.dumps(fingerprint, sort_keys=True))
    return result
