"""A whole order on S3 blobs (a real SeaweedFS bucket with versioning on): the bucket only
ever holds ciphertext, and deleting the order leaves no object and no old version of it."""

from __future__ import annotations

import pytest

from headshots.config import Settings
from headshots.orders import delete_order
from headshots.store import S3BlobStore
from tests._seaweed import VERSIONED
from tests.orders.test_deletion import delivered, scanner_for

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(tmp_path, s3_server, s3_prefix):
    return Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                    heartbeat_seconds=0.2, lease_seconds=30,
                    blobs=s3_server.settings(s3_prefix, bucket=VERSIONED))


def bucket_contents(client, prefix):
    """Every version and delete marker under ``prefix``, with the bytes of each version."""
    page = client.list_object_versions(Bucket=VERSIONED, Prefix=prefix)
    assert not page.get("IsTruncated")
    found = {}
    for v in page.get("Versions", []):
        body = client.get_object(Bucket=VERSIONED, Key=v["Key"], VersionId=v["VersionId"])
        found[(v["Key"], v["VersionId"])] = body["Body"].read()
    return found, page.get("DeleteMarkers", [])


def test_an_order_on_s3_leaves_nothing_in_the_bucket_after_deletion(
        workflow, store, tiny, backend, photos, s3_server, s3_prefix):
    assert isinstance(store.blobs, S3BlobStore)
    order_id = delivered(workflow, tiny)
    client = s3_server.client()
    objects, _ = bucket_contents(client, s3_prefix)
    inventory = store.keys(order_id, f"orders/{order_id}/")
    assert {k[len(s3_prefix):] for k, _ in objects} == set(inventory) and len(inventory) > 20
    scanner = scanner_for(store, order_id, backend, photos)
    # at rest the bucket holds ciphertext only: no face, no file name, no embedding
    assert [f for (k, _), data in objects.items() for f in scanner.scan_bytes(data, k)] == []
    assert not (store.data_dir / "blobs").exists()
    receipt = delete_order(store, order_id)
    assert receipt["key_destroyed"]
    assert bucket_contents(client, s3_prefix) == ({}, [])  # no versions, no delete markers
    assert scanner.scan_dir(store.data_dir) + scanner.scan_database(
        store.settings.resolved_database_url) == []
