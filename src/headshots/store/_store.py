"""The store the workflow uses: database + blob store + keys + scratch, one object.

Every blob of an order is encrypted with that order's data key before it reaches the blob
store and is listed in the ``blobs`` inventory; stages that need plain files get a scratch
folder that is wiped when they end, whether they finish or fail.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from headshots.clock import Clock, SystemClock
from headshots.config import Settings
from headshots.errors import NotFoundError
from headshots.store import blobkeys
from headshots.store._blobs import BlobStore, LocalBlobStore
from headshots.store._crypto import MasterKey, OrderCipher, load_master_key, new_data_key
from headshots.store._db import Database
from headshots.store._models import BlobRow, OrderRow

__all__ = ["Store", "open_blob_store", "open_store"]


def open_blob_store(settings: Settings) -> BlobStore:
    """The blob store the settings name (``blobs.kind``); an S3 bucket is checked now."""
    if settings.blobs.kind == "s3":
        from headshots.store._s3 import S3BlobStore

        return S3BlobStore(settings.blobs)
    return LocalBlobStore(Path(settings.data_dir) / "blobs")


class Store:
    def __init__(self, settings: Settings, *, db: Database | None = None,
                 blobs: BlobStore | None = None, master: MasterKey | None = None,
                 clock: Clock | None = None) -> None:
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.db = db or Database(settings.resolved_database_url)
        self.blobs = blobs if blobs is not None else open_blob_store(settings)
        self.master = master or load_master_key(settings)
        self.clock = clock or SystemClock()
        self.scratch_root = self.data_dir / "scratch"

    # -- keys ------------------------------------------------------------------------------
    def new_wrapped_key(self, order_id: str) -> bytes:
        return self.master.wrap(new_data_key(), order_id)

    def cipher(self, order_id: str) -> OrderCipher:
        with self.db.session() as s:
            wrapped = s.scalar(select(OrderRow.wrapped_key).where(OrderRow.id == order_id))
        if wrapped is None:
            raise NotFoundError(f"order {order_id} has no data key (deleted or unknown)",
                                "its data was deleted; start a new order")
        return OrderCipher(self.master.unwrap(wrapped, order_id))

    # -- blobs -----------------------------------------------------------------------------
    def put(self, order_id: str, key: str, plain: bytes, kind: str) -> dict[str, Any]:
        """Encrypt and store; record it in the inventory. Returns the inventory entry."""
        stored = self.cipher(order_id).encrypt(key, plain)
        self.blobs.put(key, stored)
        entry = {"key": key, "kind": kind, "size": len(stored),
                 "sha256": hashlib.sha256(stored).hexdigest()}
        with self.db.session() as s:
            s.merge(BlobRow(order_id=order_id, group=blobkeys.group_of(key),
                            created_at=self.clock.now(), **entry))
        return entry

    def put_file(self, order_id: str, key: str, path: Path, kind: str) -> dict[str, Any]:
        return self.put(order_id, key, Path(path).read_bytes(), kind)

    def get(self, order_id: str, key: str) -> bytes:
        return self.cipher(order_id).decrypt(key, self.blobs.get(key))

    def get_file(self, order_id: str, key: str, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.get(order_id, key))
        return path

    def keys(self, order_id: str, prefix: str) -> list[str]:
        """Inventory keys under ``prefix`` (what this order wrote), sorted."""
        with self.db.session() as s:
            rows = s.scalars(select(BlobRow.key).where(BlobRow.order_id == order_id,
                                                       BlobRow.key.startswith(prefix)))
            return sorted(rows)

    def delete_prefix(self, order_id: str, prefix: str) -> list[dict[str, Any]]:
        """Delete every blob under ``prefix``: those in the inventory and any stray the store
        holds there (a crash between storing and recording). Returns what went."""
        with self.db.session() as s:
            rows = list(s.scalars(select(BlobRow).where(BlobRow.order_id == order_id,
                                                        BlobRow.key.startswith(prefix))))
        known = {r.key: {"key": r.key, "kind": r.kind, "size": r.size, "sha256": r.sha256}
                 for r in rows}
        gone = []
        for key in sorted(set(known) | set(self.blobs.list(prefix))):
            existed = self.blobs.delete(key)
            entry = known.get(key) or {"key": key, "kind": "stray", "size": None,
                                       "sha256": None}
            if existed or key in known:
                gone.append(entry)
        with self.db.session() as s:
            s.execute(delete(BlobRow).where(BlobRow.order_id == order_id,
                                            BlobRow.key.startswith(prefix)))
        return gone

    # -- scratch ---------------------------------------------------------------------------
    def scratch_dir(self, order_id: str) -> Path:
        return self.scratch_root / order_id

    @contextmanager
    def scratch(self, order_id: str, stage: str) -> Iterator[Path]:
        """A private folder for plain files while a stage runs; wiped when the stage ends or
        fails. Only the stage's lease holder uses it, so one left by a killed process is wiped
        by the next holder on entry (and by the purge)."""
        folder = self.scratch_dir(order_id) / stage
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, mode=0o700)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            try:
                folder.parent.rmdir()  # the order's scratch root, when no other stage uses it
            except OSError:
                pass

    def wipe_scratch(self, order_id: str) -> int:
        """Remove whatever scratch an order has (e.g. left by a killed process); file count."""
        root = self.scratch_dir(order_id)
        count = sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0
        shutil.rmtree(root, ignore_errors=True)
        return count

    def close(self) -> None:
        self.db.dispose()


def open_store(settings: Settings | None = None, **kwargs: Any) -> Store:
    return Store(settings or Settings(), **kwargs)
