"""An S3 blob store (boto3): AWS S3 or any S3-compatible server (SeaweedFS, MinIO, R2...).

It sees only what the order store hands it, which is already encrypted. A delete removes every
version of the key, so a bucket with versioning on keeps nothing of a purged order; a bucket
is checked when the store opens, so a wrong setting fails at start with the setting's name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from headshots.config import BlobSettings
from headshots.errors import ConfigError, NotFoundError, RuntimeFailure
from headshots.store._blobs import check_key

if TYPE_CHECKING:
    from botocore.client import BaseClient

__all__ = ["S3BlobStore"]

_ENV = "HEADSHOTS_BLOBS__"
_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
                     "ExpiredToken", "AuthorizationHeaderMalformed", "InvalidClientTokenId"}
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}
_AT_START = "checking the bucket at start"


def _public_url(url: str | None) -> str:
    """The endpoint without any user:password part, fit for an error message."""
    if not url:
        return "AWS S3"
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _code(err: Exception) -> str:
    response: dict[str, Any] = getattr(err, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3BlobStore:
    """Blobs as objects ``<prefix><key>`` in one bucket. Thread-safe (one boto3 client)."""

    def __init__(self, settings: BlobSettings, *, check: bool = True) -> None:
        import boto3
        from botocore.config import Config

        if not settings.bucket:
            raise ConfigError("blobs.kind is s3 but no bucket is set",
                              f"set {_ENV}BUCKET to an existing bucket")
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        self.where = f"bucket {self.bucket!r} at {_public_url(settings.endpoint_url)}"
        self._endpoint = _public_url(settings.endpoint_url)
        path_style = settings.path_style if settings.path_style is not None \
            else settings.endpoint_url is not None
        secret = settings.secret_access_key
        key_id = settings.access_key_id
        self._make_client = lambda: boto3.session.Session().client(
            "s3", endpoint_url=settings.endpoint_url, region_name=settings.region,
            aws_access_key_id=key_id.get_secret_value() if key_id else None,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(connect_timeout=settings.timeout_seconds,
                          read_timeout=settings.timeout_seconds,
                          retries={"max_attempts": 3, "mode": "standard"},
                          s3={"addressing_style": "path" if path_style else "auto"}),
        )
        self._client: BaseClient = self._make_client()
        self._pid = os.getpid()
        if check:
            self.check()

    @property
    def client(self) -> BaseClient:
        """The boto3 client; a new one after a fork, so no two processes share a connection."""
        if os.getpid() != self._pid:
            self._client, self._pid = self._make_client(), os.getpid()
        return self._client

    # -- errors ------------------------------------------------------------------------------
    def _fail(self, err: Exception, doing: str) -> Exception:
        """A typed error for a failed request: names the setting to fix, never a key."""
        from botocore.exceptions import ClientError, NoCredentialsError

        code = _code(err)
        if isinstance(err, NoCredentialsError):
            return ConfigError(f"no credentials for the object store ({doing} in {self.where})",
                               f"set {_ENV}ACCESS_KEY_ID and {_ENV}SECRET_ACCESS_KEY")
        if code in _CREDENTIAL_CODES:
            return ConfigError(
                f"the object store refused the credentials ({code}) {doing} in {self.where}",
                f"set {_ENV}ACCESS_KEY_ID and {_ENV}SECRET_ACCESS_KEY to a valid key pair")
        if code == "NoSuchBucket":
            return ConfigError(f"{self.where} does not exist",
                               f"create it (e.g. `aws s3 mb s3://{self.bucket}`) or set "
                               f"{_ENV}BUCKET to an existing bucket")
        if code in ("AccessDenied", "403", "Forbidden"):
            return ConfigError(
                f"access denied {doing} in {self.where}",
                "give the key read, write, list and delete rights (versions included) on the "
                f"bucket, or set {_ENV}ACCESS_KEY_ID / {_ENV}SECRET_ACCESS_KEY to one that has")
        if not isinstance(err, ClientError):  # connection refused, DNS, timeouts
            problem = (f"the object store at {self._endpoint} cannot be reached {doing} "
                       f"({type(err).__name__})")
            if doing == _AT_START:  # a wrong setting, most likely: stop with its name
                return ConfigError(problem, f"check {_ENV}ENDPOINT_URL (and {_ENV}REGION) and "
                                   "that the server is running")
            # it answered at start: an outage, so a failure the stage is retried after
            return RuntimeFailure(problem, "check that the object store is running; the stage "
                                  "is retried")
        return RuntimeFailure(f"the object store failed {doing} in {self.where} ({code})",
                              "retry; if it persists, check the object store's logs")

    def _call(self, doing: str, method: str, **kwargs: Any) -> Any:
        """One client call; failures become typed errors raised outside the ``except``, so
        no botocore message (which may quote the endpoint URL) rides along as context."""
        from botocore.exceptions import BotoCoreError, ClientError

        failure: Exception
        try:
            return getattr(self.client, method)(**kwargs)
        except (BotoCoreError, ClientError) as err:
            if _code(err) in _MISSING_CODES:
                failure = NotFoundError(f"blob {kwargs.get('Key', '')[len(self.prefix):]} does "
                                        "not exist", "it was deleted or never written")
            else:
                failure = self._fail(err, doing)
        raise failure

    def _pages(self, doing: str, method: str, **kwargs: Any) -> list[dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError

        failure: Exception
        try:
            return list(self.client.get_paginator(method).paginate(**kwargs))
        except (BotoCoreError, ClientError) as err:
            failure = self._fail(err, doing)
        raise failure

    def check(self) -> None:
        """One cheap listing: the endpoint answers, the credentials work, the bucket exists."""
        self._call(_AT_START, "list_objects_v2", Bucket=self.bucket,
                   Prefix=self.prefix, MaxKeys=1)

    def versioning(self) -> str:
        """The bucket's versioning status: '' (never enabled), 'Enabled' or 'Suspended'."""
        answer = self._call("reading versioning", "get_bucket_versioning", Bucket=self.bucket)
        return str(answer.get("Status", ""))

    # -- the protocol ----------------------------------------------------------------------
    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes) -> None:
        # a PUT is atomic in S3: readers see the old object or the whole new one
        self._call("storing a blob", "put_object", Bucket=self.bucket, Key=self._name(key),
                   Body=bytes(data))

    def get(self, key: str) -> bytes:
        answer = self._call("reading a blob", "get_object", Bucket=self.bucket,
                            Key=self._name(key))
        return bytes(answer["Body"].read())

    def delete(self, key: str) -> bool:
        """Delete every version and delete marker of ``key``; True when a version existed.
        Listing versions works on unversioned buckets too (one version, id 'null'), so a
        bucket whose versioning was switched on later is still emptied."""
        name = self._name(key)
        existed = False
        for _ in range(5):  # again, in case a writer raced us with a new version
            versions = self._versions(name)
            if not versions:
                return existed
            existed = existed or any(not marker for _, marker in versions)
            for version_id, _marker in versions:
                self._call("deleting a blob", "delete_object", Bucket=self.bucket, Key=name,
                           VersionId=version_id)
        raise RuntimeFailure(f"a blob in {self.where} keeps getting new versions while deleted",
                             "stop whatever writes to this order and delete it again")

    def _versions(self, name: str) -> list[tuple[str, bool]]:
        """(version id, is a delete marker) of exactly ``name`` (the listing is by prefix)."""
        out: list[tuple[str, bool]] = []
        for page in self._pages("listing versions", "list_object_versions",
                                Bucket=self.bucket, Prefix=name):
            out += [(v["VersionId"], False) for v in page.get("Versions", []) if v["Key"] == name]
            out += [(m["VersionId"], True) for m in page.get("DeleteMarkers", [])
                    if m["Key"] == name]
        return out

    def list(self, prefix: str) -> Iterator[str]:
        keys: list[str] = []
        for page in self._pages("listing blobs", "list_objects_v2", Bucket=self.bucket,
                                Prefix=self.prefix + prefix):
            keys += [o["Key"][len(self.prefix):] for o in page.get("Contents", [])]
        yield from sorted(keys)

    def exists(self, key: str) -> bool:
        try:
            self._call("looking up a blob", "head_object", Bucket=self.bucket,
                       Key=self._name(key))
        except NotFoundError:
            return False
        return True
