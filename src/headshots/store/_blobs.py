"""Blob stores: a tiny protocol, a local-folder implementation and an in-memory one.

Blobs are opaque bytes under string keys (made by ``headshots.store.blobkeys``); encryption is
layered on top by the order store, so a blob store never sees plain personal data.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from headshots.errors import ConfigError, NotFoundError

__all__ = ["BlobStore", "LocalBlobStore", "MemoryBlobStore", "check_key"]


@runtime_checkable
class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` whole or not at all (readers never see half a blob)."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; ``NotFoundError`` when there are none."""
        ...

    def delete(self, key: str) -> bool:
        """Remove ``key`` (every version of it, where the store keeps versions). True when
        something was there."""
        ...

    def list(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix``, sorted."""
        ...

    def exists(self, key: str) -> bool: ...


def check_key(key: str) -> str:
    """Keys are relative, slash-separated, without '..' or empty parts: a key can never point
    outside the store."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise ConfigError(f"invalid blob key {key!r}", "make keys with headshots.store.blobkeys")
    return key


class LocalBlobStore:
    """Files under a root folder; writes go to a temporary name and are renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"blob {key} does not exist", "it was deleted or never written") \
                from None

    def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        # drop now-empty folders up to the root, so a purged order leaves no empty tree behind
        parent = path.parent
        while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
        return True

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix.rstrip("/") if prefix else self.root
        if base.is_file():
            yield prefix
            return
        if not base.is_dir():
            return
        found = sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*")
                       if p.is_file() and not p.name.endswith(".part"))
        yield from (k for k in found if k.startswith(prefix))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class MemoryBlobStore:
    """A dict, for tests of what composes a blob store (the real ones have their own tests)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self.data[check_key(key)] = bytes(data)

    def get(self, key: str) -> bytes:
        try:
            return self.data[key]
        except KeyError:
            raise NotFoundError(f"blob {key} does not exist", "it was deleted or never written") \
                from None

    def delete(self, key: str) -> bool:
        with self._lock:
            return self.data.pop(key, None) is not None

    def list(self, prefix: str) -> Iterator[str]:
        with self._lock:
            keys = sorted(k for k in self.data if k.startswith(prefix))
        yield from keys

    def exists(self, key: str) -> bool:
        return key in self.data
