"""Typed settings. Every threshold lives here with a default and a one-line why.

Stage configs are plain pydantic models (immutable, validated); ``Settings`` reads the
process environment (``HEADSHOTS_*``) for the service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["BlobSettings", "DecodeConfig", "FaceQualityConfig", "IntakeConfig",
           "RetentionSchedule", "ServiceSettings", "Settings", "WorkerSettings"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DecodeConfig(_Frozen):
    max_pixels: int = Field(
        50_000_000, gt=0,
        description="decoded pixels at most; PNG, WebP, AVIF and HEIC without a large preview are "
        "decoded whole, so their header must stay below this (48 MP phone HEICs pass)",
    )
    max_pixels_reduced: int = Field(
        260_000_000, gt=0,
        description="header limit for JPEG and HEIC, which decode at a reduced size: 200 MP phone "
        "photos pass, a bomb claiming gigapixels is refused before decoding",
    )
    max_bytes: int = Field(
        100_000_000, gt=0, description="refuse larger files before reading (200 MP JPEGs: 30-60 MB)"
    )
    decode_max_side: int = Field(
        1600, ge=256,
        description="JPEGs decode at 1/2, 1/4 or 1/8 scale while the long side stays >= this",
    )


class FaceQualityConfig(_Frozen):
    """Sharpness and exposure limits of a face, shared by the intake check and the judge."""

    blur_threshold: float = Field(
        0.18, ge=0, le=1,
        description="sharpness (edge gradient a 1 px reblur removes, face at <= 128 px) below "
        "this: blurry (sharp and retouched faces >= 0.21, blurred by 1 % of the face <= 0.16)",
    )
    dark_threshold: float = Field(55.0, ge=0, le=255, description="mean face luma below: too_dark")
    bright_threshold: float = Field(215.0, ge=0, le=255, description="mean face luma above")
    clipped_fraction: float = Field(
        0.35, gt=0, le=1, description="share of face pixels at 0 or 255 above this: exposure fails"
    )


class IntakeConfig(_Frozen):
    """Per-photo and set thresholds of ``headshots check``."""

    decode: DecodeConfig = DecodeConfig()
    min_face_fraction: float = Field(
        0.08, gt=0, lt=1, description="face box height / image height below this: face_too_small"
    )
    min_face_pixels: int = Field(96, gt=0, description="face height in px below: too small")
    second_face_area_ratio: float = Field(
        0.25, gt=0, le=1, description="a second face this large vs the largest: multiple_faces"
    )
    min_detection_score: float = Field(0.5, gt=0, lt=1, description="weaker detections are ignored")
    quality: FaceQualityConfig = FaceQualityConfig()
    eyes_dark_ratio: float = Field(
        0.38, gt=0, lt=1,
        description="eye region / cheek brightness below this (open eyes ~0.5-0.7): eyes_covered",
    )
    eyes_min_detail: float = Field(
        0.05, ge=0, description="eye region contrast / cheek brightness below this: eyes_covered"
    )
    max_yaw: float = Field(50.0, gt=0, le=90, description="degrees; beyond: extreme_pose")
    max_pitch: float = Field(35.0, gt=0, le=90, description="degrees; beyond: extreme_pose")
    max_roll: float = Field(35.0, gt=0, le=90, description="degrees; beyond: extreme_pose")
    duplicate_distance: float = Field(
        0.12, ge=0, description="perceptual distance below which two photos are near-duplicates"
    )
    duplicate_head_distance: float = Field(
        0.2, ge=0,
        description="eye-aligned head views closer than this are burst shots (same shot <= 0.11, "
        "other photos >= 0.6)",
    )
    identity_threshold: float = Field(
        0.6, gt=0, description="dlib distance to the set's identity centre above: different_person"
    )
    transparent_note_fraction: float = Field(
        0.05, ge=0, le=1,
        description="a photo more transparent than this is flagged as a cut-out (kept: the area "
        "becomes a plain backdrop, which trains worse than the real background)",
    )
    min_accepted: int = Field(8, ge=1, description="accepted photos needed for the set to be ready")
    max_photos: int = Field(40, ge=1, description="photos examined at most in one set")
    crop_resolution: int = Field(512, ge=64, description="side of the square training crops")


class RetentionSchedule(_Frozen):
    """How long each kind of personal data is kept: the published schedule, as data.

    Days count from delivery, or from the last activity of an order that never finished."""

    inputs_days: int = Field(
        7, ge=0, description="selfies, training crops and face embeddings, after delivery"
    )
    model_days: int = Field(
        30, ge=0, description="the fine-tuned model (LoRA, checkpoints) unless the person keeps it"
    )
    results_days: int = Field(30, ge=0, description="generated candidates and delivered headshots")
    kept_model_max_days: int = Field(
        3 * 365, ge=1, description="a kept model goes at most this long after the last activity"
    )


class BlobSettings(_Frozen):
    """Where blobs go (env ``HEADSHOTS_BLOBS__<FIELD>``): ``data_dir/blobs`` or an S3 bucket.
    Either way the store encrypts every blob before the blob store sees it."""

    kind: Literal["local", "s3"] = Field(
        "local", description="local: files under data_dir/blobs; s3: an S3-compatible bucket "
        "(AWS S3, MinIO, SeaweedFS, R2...), needed when workers run on several machines"
    )
    bucket: str | None = Field(None, description="s3: the bucket (it must exist)")
    prefix: str = Field(
        "", description="s3: key prefix inside the bucket, e.g. 'headshots/' to share a bucket"
    )
    endpoint_url: str | None = Field(
        None, description="s3: the server's URL for S3-compatible stores (e.g. "
        "http://seaweedfs:8333); unset for AWS S3"
    )
    region: str | None = Field(None, description="s3: region name (AWS: the bucket's region)")
    access_key_id: SecretStr | None = Field(
        None, description="s3: access key; unset: boto3's usual chain (AWS_* env, instance role)"
    )
    secret_access_key: SecretStr | None = Field(None, description="s3: the key's secret")
    path_style: bool | None = Field(
        None, description="s3: bucket in the URL path, not the host name (default: on when "
        "endpoint_url is set, as self-hosted stores need)"
    )
    timeout_seconds: float = Field(30.0, gt=0, description="s3: connect and read timeout")


class ServiceSettings(_Frozen):
    """``headshots serve``: the HTTP service (env ``HEADSHOTS_SERVICE__<FIELD>``)."""

    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(8000, ge=0, le=65535, description="port to listen on (0: any free one)")
    public_url: str | None = Field(
        None, description="the address people and webhooks see, e.g. https://headshots.example; "
        "https makes cookies Secure (default http://HOST:PORT)"
    )
    session_secret: SecretStr | None = Field(
        None, description="signs cookies and CSRF tokens, derives webhook secrets; default: a "
        "key file created in data_dir on first start (development only)"
    )
    session_days: int = Field(14, ge=1, description="a signed-in session lasts this long")
    max_upload_bytes: int = Field(25_000_000, gt=0, description="one photo upload at most")
    max_photos: int = Field(30, ge=1, le=30, description="photos in one order at most")
    signin_per_minute: int = Field(10, ge=1, description="sign-in tries per address and e-mail")
    uploads_per_minute: int = Field(120, ge=1, description="photo uploads per account")
    purge_every_seconds: float = Field(3600.0, gt=0, description="how often the schedule runs")
    webhook_every_seconds: float = Field(1.0, gt=0, description="how often webhooks are sent")
    webhook_attempts: int = Field(8, ge=1, description="tries of one webhook before giving up")
    webhook_backoff_seconds: float = Field(
        10.0, gt=0, description="first retry delay; doubled each try, at most an hour")
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="one webhook request")
    scheduler: bool = Field(
        True, description="run the purge and webhook timer in this process (with a broker, "
        "Celery beat purges instead and this timer only sends webhooks)")
    base_models: dict[str, str] = Field(
        default_factory=dict, description="base models people may order on: name -> diffusers "
        "folder or hub id (the first is the default); people never pass a path themselves"
    )
    order_defaults: dict[str, Any] = Field(
        default_factory=dict, description="operator's order settings under people's choices "
        "(e.g. resolution, train_steps, sample_steps, train_overrides)"
    )
    device: str = Field("auto", description="where stages run: auto, cpu, cuda, mps")


class WorkerSettings(_Frozen):
    """``headshots worker`` and the Celery runner (env ``HEADSHOTS_WORKER__<FIELD>``); used only
    when ``HEADSHOTS_BROKER_URL`` is set. See docs/scale-out.md."""

    device: str = Field("auto", description="where a worker's stages run: auto, cpu, cuda, mps")
    visibility_timeout_seconds: float = Field(
        12 * 3600.0, gt=0,
        description="Redis hands an unacknowledged message to another worker after this: keep "
        "it above the longest stage (a 30 min training) and the longest retry wait (celery "
        "#5935); a redelivery early is harmless (the lease), only wasted",
    )
    retry_backoff_seconds: float = Field(
        10.0, gt=0, description="a failed stage's first retry waits this long; doubled each try")
    retry_backoff_max_seconds: float = Field(
        600.0, gt=0, description="the longest wait between tries (below the visibility timeout)")
    reap_every_seconds: float = Field(
        60.0, gt=0, description="how often beat looks for stages whose heartbeat stopped")
    requeue_after_seconds: float = Field(
        3600.0, gt=0,
        description="a queued stage with no sign of life for this long is sent again (its "
        "message was lost, e.g. a Redis without persistence restarted); a duplicate is harmless",
    )
    generate_chunk_size: int = Field(
        0, ge=0, description="candidates per part when one order's generation is spread over "
        "several GPU workers (0: one worker generates them all)")
    beat_schedule_file: Path | None = Field(
        None, description="where beat keeps its state (default: data_dir/celerybeat-schedule)")


def _user_data_dir() -> Path:
    """$XDG_DATA_HOME, else ~/.local/share: one private place per user, not the working dir."""
    import os

    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


class Settings(BaseSettings):
    """Process settings for the service, the workers and the CLI (env prefix ``HEADSHOTS_``).

    The embedded default needs none of them: SQLite, blobs and a generated master key all live
    in ``data_dir``."""

    model_config = SettingsConfigDict(env_prefix="HEADSHOTS_", env_nested_delimiter="__",
                                      extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: _user_data_dir() / "headshots",
        description="database, blobs, keys, scratch (default: the user's data folder)",
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/headshots.db"
    )
    blobs: BlobSettings = BlobSettings()
    master_key: SecretStr | None = Field(
        None, description="base64 of 32 bytes wrapping every order's data key; default: a key "
        "file created in data_dir on first start (development only)"
    )
    environment: Literal["development", "production"] = Field(
        "development", description="production refuses generated or default secrets"
    )
    lease_seconds: float = Field(
        120.0, gt=0, description="a stage's lease lasts this long without a heartbeat"
    )
    heartbeat_seconds: float = Field(15.0, gt=0, description="how often a running stage renews")
    max_attempts: int = Field(3, ge=1, description="tries of a stage before the order fails")
    broker_url: str | None = Field(
        None, description="Celery broker (redis://host:6379/0, or amqp:// for RabbitMQ): when "
        "set, stages run on `headshots worker` processes instead of in-process"
    )
    retention: RetentionSchedule = RetentionSchedule()
    service: ServiceSettings = ServiceSettings()
    worker: WorkerSettings = WorkerSettings()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'headshots.db').resolve()}"
