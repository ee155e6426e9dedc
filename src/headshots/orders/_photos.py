"""Photos of an order: each upload is decoded safely, re-encoded without metadata (the
original bytes are never stored), checked on its own, and kept encrypted with its per-photo
check; the set-level verdict is recomputed from those whenever the set changes.

Inside the workflow a photo is named by its id, so reports, advice and events never carry the
person's file names; ``display_name`` (the only copy of the name) is for their own screen.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from headshots.config import DecodeConfig, IntakeConfig
from headshots.errors import ImageError
from headshots.faces import FaceBackend
from headshots.intake import IntakeReport, PhotoResult, check_photo, evaluate_set
from headshots.media import decode_image, downscale, encode_clean
from headshots.store import Store, blobkeys
from headshots.store._models import PhotoRow
from headshots.types import Reason

__all__ = ["StoredPhoto", "fingerprint", "store_photo", "load_results", "photo_rows", "set_report",
           "result_to_bytes", "result_from_bytes"]

STORE_MAX_SIDE = 3072  # enough for a 1024 px SDXL crop from the head-and-shoulders region
_ARRAYS = ("embedding", "thumb", "head_thumb", "background")


@dataclass(frozen=True)
class StoredPhoto:
    id: str
    display_name: str
    accepted: bool
    reasons: tuple[str, ...]
    detail: str


def fingerprint(files: list[tuple[str, bytes]]) -> str:
    """One hash for a set of (name, bytes): the same selfies give the same order back."""
    h = hashlib.sha256()
    for name, data in sorted(files):
        h.update(hashlib.sha256(name.encode()).digest() + hashlib.sha256(data).digest())
    return h.hexdigest()


def result_to_bytes(result: PhotoResult) -> bytes:
    """A per-photo check result (arrays included) as bytes, for the encrypted store."""
    arrays = {k: v for k in _ARRAYS if (v := getattr(result, k, None)) is not None}
    plain = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)
             if f.name not in _ARRAYS}
    plain["reasons"] = [r.value for r in result.reasons]
    buf = io.BytesIO()
    np.savez(buf, __json__=np.frombuffer(json.dumps(plain).encode(), np.uint8), **arrays)
    return buf.getvalue()


def result_from_bytes(data: bytes) -> PhotoResult:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        plain: dict[str, Any] = json.loads(npz["__json__"].tobytes().decode())
        arrays = {k: npz[k] for k in npz.files if k != "__json__"}
    plain["reasons"] = [Reason(r) for r in plain["reasons"]]
    known = {f.name for f in dataclasses.fields(PhotoResult)}
    return PhotoResult(**{k: v for k, v in {**plain, **arrays}.items() if k in known})


def store_photo(store: Store, order_id: str, name: str, data: bytes, backend: FaceBackend,
                config: IntakeConfig, position: int) -> StoredPhoto:
    """Decode, re-encode, check and keep one upload. An unusable file is recorded with its
    reason (so the person sees why) but none of its bytes are kept."""
    photo_id = "ph_" + secrets.token_hex(8)
    now = store.clock.now()
    row = PhotoRow(id=photo_id, order_id=order_id, position=position, display_name=name,
                   created_at=now)
    try:
        decoded = decode_image(data, DecodeConfig(decode_max_side=STORE_MAX_SIDE),
                               name=photo_id)
    except ImageError as exc:
        result = PhotoResult(file=photo_id, reasons=[exc.reason], detail=exc.problem)
    else:
        pixels, _ = downscale(decoded.pixels, STORE_MAX_SIDE)
        clean = encode_clean(pixels, "JPEG", quality=95)
        result = check_photo(photo_id, clean, backend, config)
        entry = store.put(order_id, blobkeys.selfie(order_id, photo_id), clean, "selfie")
        row.content_sha256 = entry["sha256"]
        store.put(order_id, blobkeys.intake(order_id, f"photo-{photo_id}.npz"),
                  result_to_bytes(result), "photo_check")
    row.accepted = result.accepted
    row.reasons = {"codes": [r.value for r in result.reasons], "detail": result.detail}
    row.metrics = {k: v for k, v in result.metrics.items() if isinstance(v, int | float | str)}
    with store.db.session() as s:
        s.add(row)
    return StoredPhoto(photo_id, name, result.accepted, tuple(r.value for r in result.reasons),
                       result.detail)


def photo_rows(store: Store, order_id: str) -> list[PhotoRow]:
    with store.db.session() as s:
        return list(s.scalars(select(PhotoRow).where(PhotoRow.order_id == order_id,
                                                     PhotoRow.removed_at.is_(None))
                              .order_by(PhotoRow.position)))


def load_results(store: Store, order_id: str) -> list[PhotoResult]:
    """Every current photo's own check, in upload order (unreadable ones included)."""
    out = []
    for row in photo_rows(store, order_id):
        key = blobkeys.intake(order_id, f"photo-{row.id}.npz")
        if row.content_sha256 is not None:
            out.append(result_from_bytes(store.get(order_id, key)))
        else:
            codes = (row.reasons or {}).get("codes", [])
            out.append(PhotoResult(file=row.id, reasons=[Reason(c) for c in codes],
                                   detail=(row.reasons or {}).get("detail", "")))
    return out


def set_report(store: Store, order_id: str, config: IntakeConfig) -> IntakeReport:
    return evaluate_set(load_results(store, order_id), config)
