"""Encryption at rest: one random data key per order (AES-256-GCM), stored wrapped by the
master key. Destroying an order's wrapped key makes every copy of its blobs unreadable, wherever
a copy survived (a backup, a stray file, an object version).

Blob format: ``b"HSE1" | 12-byte nonce | ciphertext+tag``; the blob's key is the associated
data, so a ciphertext moved to another key (or another order) fails to decrypt.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from headshots.config import Settings
from headshots.errors import ConfigError, RuntimeFailure

__all__ = ["MAGIC", "MasterKey", "OrderCipher", "load_master_key", "new_data_key"]

MAGIC = b"HSE1"
_NONCE = 12
_KEY_FILE = "master.key"


class MasterKey:
    """Wraps and unwraps order data keys; never encrypts user data itself."""

    def __init__(self, key: bytes, *, generated: bool = False) -> None:
        if len(key) != 32:
            raise ConfigError(f"the master key must be 32 bytes, got {len(key)}",
                              "set HEADSHOTS_MASTER_KEY to base64 of 32 random bytes")
        self._aead = AESGCM(key)
        self.generated = generated  # made by us in the data dir (development default)

    def wrap(self, data_key: bytes, order_id: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data_key, order_id.encode())

    def unwrap(self, wrapped: bytes, order_id: str) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], order_id.encode())
        except InvalidTag as exc:
            raise RuntimeFailure(
                f"the data key of order {order_id} cannot be unwrapped",
                "the master key changed; restore the master key this data was written with",
            ) from exc


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


class OrderCipher:
    """Encrypts and decrypts one order's blobs with its data key."""

    def __init__(self, data_key: bytes) -> None:
        self._aead = AESGCM(data_key)

    def encrypt(self, key: str, plain: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return MAGIC + nonce + self._aead.encrypt(nonce, plain, key.encode())

    def decrypt(self, key: str, blob: bytes) -> bytes:
        if not blob.startswith(MAGIC):
            raise RuntimeFailure(f"blob {key} is not encrypted by headshots",
                                 "the store was written by something else; restore it")
        body = blob[len(MAGIC):]
        try:
            return self._aead.decrypt(body[:_NONCE], body[_NONCE:], key.encode())
        except InvalidTag as exc:
            raise RuntimeFailure(f"blob {key} failed its integrity check",
                                 "the stored object was altered or moved; restore it") from exc


def load_master_key(settings: Settings) -> MasterKey:
    """The master key from settings, else (development only) a key file in the data dir,
    created with mode 0600 on first start. Production refuses to run without a configured key."""
    if settings.master_key is not None:
        try:
            raw = base64.b64decode(settings.master_key.get_secret_value(), validate=True)
        except ValueError as exc:
            raise ConfigError("HEADSHOTS_MASTER_KEY is not valid base64",
                              "set it to base64 of 32 random bytes (openssl rand -base64 32)") \
                from exc
        return MasterKey(raw)
    if settings.environment == "production":
        raise ConfigError("no master key is configured in production",
                          "set HEADSHOTS_MASTER_KEY to base64 of 32 random bytes "
                          "(openssl rand -base64 32) and keep it outside the data directory")
    path = Path(settings.data_dir) / _KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64encode(os.urandom(32)))
    return MasterKey(base64.b64decode(path.read_bytes()), generated=True)
