"""The S3 blob store against a real S3-compatible server (SeaweedFS, started by the tests):
versions deleted with the key, typed errors at start that name the setting and never a
secret, settings from the environment, and the order store encrypting before S3 sees bytes."""

from __future__ import annotations

import pytest

from headshots.config import Settings
from headshots.errors import ConfigError
from headshots.store import S3BlobStore, Store, open_blob_store
from tests._seaweed import VERSIONED, free_ports


def versions(client, bucket, prefix):
    page = client.list_object_versions(Bucket=bucket, Prefix=prefix)
    return page.get("Versions", []), page.get("DeleteMarkers", [])


def test_delete_removes_every_version_in_a_versioned_bucket(s3_server, s3_prefix):
    store = S3BlobStore(s3_server.settings(s3_prefix, bucket=VERSIONED))
    assert store.versioning() == "Enabled"
    client = s3_server.client()
    for i in range(3):
        store.put("orders/o/inputs/selfie", b"face %d" % i)
    store.put("orders/o/inputs/selfie2", b"other")
    kept, markers = versions(client, VERSIONED, s3_prefix)
    assert len(kept) == 4 and not markers
    # what a plain DELETE does on a versioned bucket: a marker on top, every face still there
    client.delete_object(Bucket=VERSIONED, Key=s3_prefix + "orders/o/inputs/selfie2")
    kept, markers = versions(client, VERSIONED, s3_prefix + "orders/o/inputs/selfie2")
    assert len(kept) == 1 and len(markers) == 1 and not store.exists("orders/o/inputs/selfie2")
    assert store.delete("orders/o/inputs/selfie") is True
    assert store.delete("orders/o/inputs/selfie2") is True  # the hidden version counts
    assert versions(client, VERSIONED, s3_prefix) == ([], [])
    assert store.delete("orders/o/inputs/selfie") is False


def test_delete_empties_a_bucket_whose_versioning_was_suspended(s3_server, s3_prefix):
    client = s3_server.client()
    name = "hs-suspended"
    client.create_bucket(Bucket=name)
    store = S3BlobStore(s3_server.settings(s3_prefix, bucket=name))
    store.put("k/a", b"before versioning")  # version id "null"
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    store.put("k/a", b"versioned")
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    store.put("k/a", b"suspended")
    assert len(versions(client, name, s3_prefix)[0]) >= 2
    assert store.delete("k/a") and versions(client, name, s3_prefix) == ([], [])


def test_prefix_keeps_stores_apart_inside_one_bucket(s3_server, s3_prefix):
    a = S3BlobStore(s3_server.settings(s3_prefix + "a"))  # the slash is added
    b = S3BlobStore(s3_server.settings(s3_prefix + "b/"))
    a.put("orders/x/f", b"1")
    b.put("orders/x/f", b"2")
    assert a.get("orders/x/f") == b"1" and list(b.list("orders/")) == ["orders/x/f"]
    raw = s3_server.client().list_objects_v2(Bucket="hs-plain", Prefix=s3_prefix)
    assert sorted(o["Key"] for o in raw["Contents"]) == [s3_prefix + "a/orders/x/f",
                                                        s3_prefix + "b/orders/x/f"]


def test_start_fails_with_the_setting_to_fix(s3_server, s3_prefix):
    secret = s3_server.secret_access_key
    with pytest.raises(ConfigError, match="does not exist.*HEADSHOTS_BLOBS__BUCKET"):
        S3BlobStore(s3_server.settings(s3_prefix, bucket="no-such-bucket"))
    with pytest.raises(ConfigError, match="refused the credentials.*SECRET_ACCESS_KEY") as bad:
        S3BlobStore(s3_server.settings(s3_prefix, secret_access_key="wrong" + secret[5:]))
    with pytest.raises(ConfigError, match="InvalidAccessKeyId.*ACCESS_KEY_ID") as unknown:
        S3BlobStore(s3_server.settings(s3_prefix, access_key_id="nobody"))
    dead = f"http://user:pw@127.0.0.1:{free_ports(1)[0]}"
    with pytest.raises(ConfigError, match="cannot be reached.*HEADSHOTS_BLOBS__ENDPOINT_URL") \
            as gone:
        S3BlobStore(s3_server.settings(s3_prefix, endpoint_url=dead, timeout_seconds=2))
    with pytest.raises(ConfigError, match="no bucket is set.*HEADSHOTS_BLOBS__BUCKET"):
        S3BlobStore(s3_server.settings(s3_prefix, bucket=None))
    for err in (bad.value, unknown.value, gone.value):
        assert err.__cause__ is None and err.__context__ is None  # no botocore text either
        text = str(err)
        assert secret not in text and "wrong" not in text and "pw@" not in text


def test_settings_from_the_environment_open_an_s3_store(s3_server, s3_prefix, monkeypatch,
                                                        tmp_path):
    env = {"KIND": "s3", "BUCKET": "hs-plain", "PREFIX": s3_prefix,
           "ENDPOINT_URL": s3_server.endpoint_url, "REGION": "us-east-1",
           "ACCESS_KEY_ID": s3_server.access_key_id,
           "SECRET_ACCESS_KEY": s3_server.secret_access_key}
    for name, value in env.items():
        monkeypatch.setenv(f"HEADSHOTS_BLOBS__{name}", value)
    settings = Settings(data_dir=tmp_path / "data")
    assert s3_server.secret_access_key not in repr(settings)
    assert isinstance(open_blob_store(settings), S3BlobStore)
    # the order store encrypts before the bucket sees a byte
    store = Store(settings)
    try:
        from headshots.orders import CONSENT_VERSION, ConsentChoice, OrderParams, Workflow

        order_id = Workflow(store).create_order(
            OrderParams(base_model="unused"), ConsentChoice(version=CONSENT_VERSION))
        key = f"orders/{order_id}/inputs/secret.bin"
        store.put(order_id, key, b"plain face bytes" * 10, kind="selfie")
        raw = s3_server.client().get_object(Bucket="hs-plain", Key=s3_prefix + key)["Body"]
        stored = raw.read()
        assert b"plain face bytes" not in stored
        assert store.get(order_id, key) == b"plain face bytes" * 10
        assert [e["key"] for e in store.delete_prefix(order_id, f"orders/{order_id}/")] == [key]
        assert not list(store.blobs.list(f"orders/{order_id}/"))
        assert not (tmp_path / "data" / "blobs").exists()  # nothing went to the local folder
    finally:
        store.close()


def test_a_forked_process_gets_its_own_connection(s3_server, s3_prefix):
    import multiprocessing

    store = S3BlobStore(s3_server.settings(s3_prefix))
    store.put("k/parent", b"p")  # the parent's client now holds a pooled connection
    parent_client = store.client

    def child() -> None:
        assert store.client is not parent_client
        store.put("k/child", store.get("k/parent") + b"c")

    proc = multiprocessing.get_context("fork").Process(target=child)
    proc.start()
    proc.join(60)
    assert proc.exitcode == 0
    assert store.client is parent_client and store.get("k/child") == b"pc"


def test_an_outage_after_start_is_a_retryable_failure(tmp_path):
    """Reachable at start, gone later: a RuntimeFailure (the workflow retries the stage), not
    a ConfigError (which would fail the order as bad input)."""
    from headshots.errors import RuntimeFailure
    from tests._seaweed import start

    gen = start(tmp_path)
    server = next(gen)
    store = S3BlobStore(server.settings("outage/", timeout_seconds=2))
    store.put("k", b"1")
    gen.close()  # the server stops
    with pytest.raises(RuntimeFailure, match="cannot be reached storing a blob"):
        store.put("k", b"2")
