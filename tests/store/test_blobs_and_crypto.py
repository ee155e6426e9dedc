import base64

import pytest

from headshots.config import Settings
from headshots.errors import ConfigError, NotFoundError, RuntimeFailure
from headshots.store import LocalBlobStore, MemoryBlobStore
from headshots.store._crypto import MAGIC, MasterKey, OrderCipher, load_master_key, new_data_key


@pytest.fixture(params=["local", "memory", "s3"])
def blobs(request, tmp_path):
    """Every blob store against the same contract; s3 is a real SeaweedFS server."""
    if request.param == "s3":
        from headshots.store import S3BlobStore

        server = request.getfixturevalue("s3_server")
        return S3BlobStore(server.settings(request.getfixturevalue("s3_prefix")))
    return LocalBlobStore(tmp_path / "blobs") if request.param == "local" else MemoryBlobStore()


def test_put_get_list_delete(blobs):
    blobs.put("orders/a/inputs/x.png", b"one")
    blobs.put("orders/a/model/y", b"two")
    blobs.put("orders/b/inputs/z", b"three")
    assert blobs.get("orders/a/inputs/x.png") == b"one"
    assert list(blobs.list("orders/a/")) == ["orders/a/inputs/x.png", "orders/a/model/y"]
    assert blobs.exists("orders/b/inputs/z")
    assert blobs.delete("orders/a/inputs/x.png") is True
    assert blobs.delete("orders/a/inputs/x.png") is False
    with pytest.raises(NotFoundError, match="does not exist"):
        blobs.get("orders/a/inputs/x.png")


def test_put_replaces_whole_and_list_is_sorted_and_exact(blobs):
    blobs.put("orders/a/x", b"old")
    blobs.put("orders/a/x", b"new" * 1000)
    assert blobs.get("orders/a/x") == b"new" * 1000
    for key in ("orders/a/z", "orders/a/b/c", "orders/ab/y", "orders/a/a"):
        blobs.put(key, key.encode())
    assert list(blobs.list("orders/a/")) == ["orders/a/a", "orders/a/b/c", "orders/a/x",
                                             "orders/a/z"]
    assert list(blobs.list("orders/none/")) == []
    assert blobs.exists("orders/a/x") and not blobs.exists("orders/a/nope")
    assert not blobs.exists("orders/a/b")  # a "folder" is not a blob
    blobs.put("orders/a/empty", b"")
    assert blobs.get("orders/a/empty") == b""
    with pytest.raises(NotFoundError):
        blobs.get("orders/a/never")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "a/./b", "a\\b"])
def test_keys_cannot_escape_the_store(blobs, key):
    with pytest.raises(ConfigError, match="invalid blob key"):
        blobs.put(key, b"x")


def test_local_store_is_atomic_and_leaves_no_empty_folders(tmp_path):
    store = LocalBlobStore(tmp_path / "b")
    store.put("orders/o/inputs/selfies/p.png", b"x" * 10)
    assert not list((tmp_path / "b").rglob("*.part"))
    store.delete("orders/o/inputs/selfies/p.png")
    assert list((tmp_path / "b").iterdir()) == []


def test_cipher_round_trip_is_bound_to_key_and_order():
    cipher = OrderCipher(new_data_key())
    blob = cipher.encrypt("orders/o/inputs/a", b"secret face")
    assert blob.startswith(MAGIC) and b"secret face" not in blob
    assert cipher.decrypt("orders/o/inputs/a", blob) == b"secret face"
    with pytest.raises(RuntimeFailure, match="integrity"):
        cipher.decrypt("orders/o/inputs/b", blob)  # moved to another key
    with pytest.raises(RuntimeFailure, match="integrity"):
        OrderCipher(new_data_key()).decrypt("orders/o/inputs/a", blob)


def test_master_key_wraps_per_order(tmp_path):
    master = MasterKey(b"k" * 32)
    data_key = new_data_key()
    wrapped = master.wrap(data_key, "ord_1")
    assert master.unwrap(wrapped, "ord_1") == data_key
    with pytest.raises(RuntimeFailure, match="cannot be unwrapped"):
        master.unwrap(wrapped, "ord_2")
    with pytest.raises(RuntimeFailure, match="master key changed"):
        MasterKey(b"j" * 32).unwrap(wrapped, "ord_1")


def test_master_key_file_is_created_once_with_private_mode(tmp_path):
    settings = Settings(data_dir=tmp_path / "d")
    a = load_master_key(settings)
    path = tmp_path / "d" / "master.key"
    assert oct(path.stat().st_mode & 0o777) == "0o600" and a.generated
    b = load_master_key(settings)
    assert b.unwrap(a.wrap(b"x" * 32, "o"), "o") == b"x" * 32


def test_master_key_from_settings_and_production_refuses_a_generated_one(tmp_path):
    key = base64.b64encode(b"m" * 32).decode()
    assert not load_master_key(Settings(data_dir=tmp_path, master_key=key)).generated
    with pytest.raises(ConfigError, match="no master key is configured in production"):
        load_master_key(Settings(data_dir=tmp_path, environment="production"))
    with pytest.raises(ConfigError, match="not valid base64"):
        load_master_key(Settings(data_dir=tmp_path, master_key="%%%"))
    with pytest.raises(ConfigError, match="32 bytes"):
        load_master_key(Settings(data_dir=tmp_path, master_key=base64.b64encode(b"s").decode()))
