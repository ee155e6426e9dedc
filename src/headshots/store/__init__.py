"""Storage: the order database (SQLAlchemy + Alembic), blob stores, encryption keys, blob keys
and run-folder paths.

Names are loaded on first use, so importing ``headshots.store.paths`` (as the stage cores do
for a run folder's layout) never pulls in the database layer.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headshots.store._blobs import BlobStore, LocalBlobStore, MemoryBlobStore
    from headshots.store._crypto import MasterKey, OrderCipher
    from headshots.store._db import Database
    from headshots.store._s3 import S3BlobStore
    from headshots.store._store import Store, open_blob_store, open_store

__all__ = ["BlobStore", "Database", "LocalBlobStore", "MasterKey", "MemoryBlobStore",
           "OrderCipher", "S3BlobStore", "Store", "open_blob_store", "open_store"]

_WHERE = {
    "BlobStore": "_blobs", "LocalBlobStore": "_blobs", "MemoryBlobStore": "_blobs",
    "MasterKey": "_crypto", "OrderCipher": "_crypto", "Database": "_db", "Store": "_store",
    "open_store": "_store", "open_blob_store": "_store", "S3BlobStore": "_s3",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"headshots.store.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'headshots.store' has no attribute {name!r}")
