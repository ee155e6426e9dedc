"""The API's request and response models: Create / Read / Update per resource (the
full-stack template's families). Reads are what the order workflow's views return, typed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AccountCreate", "AccountDeleted", "AccountRead", "AccountUpdate", "ApproveIn",
    "CandidateRead", "ConsentRead", "DeliveredRead", "ErrorRead", "EventRead", "MoreCreate",
    "OrderCreate", "OrderRead", "OrderUpdate", "PhotoList", "PhotoRead", "PreviewRead",
    "ReasonRead", "ResultsRead", "RetentionRead", "SessionRead", "SetStatus", "SignIn",
    "StyleRead", "TokenCreate", "TokenCreated", "TokenRead", "UploadResult",
    "WebhookCreate", "WebhookCreated", "WebhookDeliveryRead", "WebhookRead",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorRead(BaseModel):
    """Every error: what is wrong, what to do; ``reason`` is the product's reason code."""

    error: str
    problem: str
    fix: str
    reason: str | None = None
    stage: str | None = None
    detail: list[dict[str, Any]] | None = None


# -- accounts -------------------------------------------------------------------------------

class SignIn(_In):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class AccountCreate(SignIn):
    pass


class AccountUpdate(_In):
    password: str = Field(max_length=1024, description="the new password (10+ characters)")
    current_password: str | None = Field(None, max_length=1024)


class AccountRead(BaseModel):
    id: str
    email: str
    created_at: datetime
    has_password: bool


class SessionRead(BaseModel):
    account: AccountRead
    csrf_token: str = Field(description="send as X-CSRF-Token (or form field csrf_token) with "
                                        "every form or cookie-signed change")


class AccountDeleted(BaseModel):
    account_id: str
    orders: list[str]
    receipts: list[dict[str, Any]]


class TokenCreate(_In):
    name: str = Field("api", min_length=1, max_length=80)


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="shown once: send as Authorization: Bearer <token>")


class WebhookCreate(_In):
    url: str = Field(min_length=8, max_length=2000)


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="shown once: verifies the Headshots-Signature header")


class WebhookDeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    event: str
    order_id: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


# -- information ----------------------------------------------------------------------------

class ConsentRead(BaseModel):
    version: str
    text: str
    sha256: str


class RetentionRead(BaseModel):
    text: str
    schedule: dict[str, int]


class StyleRead(BaseModel):
    id: str
    title: str
    wardrobe: str
    backdrop: str
    lighting: str
    framing: str


# -- orders ---------------------------------------------------------------------------------

class OrderSettings(_In):
    """The person's choices; anything unset takes the service's defaults."""

    class_word: str | None = Field(None, min_length=1, max_length=40,
                                   description="woman, man, person, ... (the person's choice)")
    styles: list[str] | None = Field(None, min_length=1, max_length=14)
    prompt: str | None = Field(None, min_length=1, max_length=400,
                               description="a custom look instead of catalog styles")
    candidates: int | None = Field(None, ge=1, le=1000)
    top: int | None = Field(None, ge=1, le=200)
    preview_count: int | None = Field(None, ge=1, le=64)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class OrderCreate(OrderSettings):
    consent_version: str = Field(max_length=32, description="the version of GET /consent the "
                                 "person agreed to; nothing is collected without it")
    keep_model: bool = Field(False, description="keep the fine-tuned model after delivery "
                             "(to order more later); off unless chosen")
    base_model: str | None = Field(None, max_length=80, description="one of the service's "
                                   "base models (default: the first)")


class OrderUpdate(_In):
    keep_model: bool


class ReasonRead(BaseModel):
    code: str
    explanation: str
    fix: str


class ProgressRead(BaseModel):
    done: int
    total: int
    attempt: int
    runner: str
    heartbeat_at: str | None


class EventRead(BaseModel):
    id: int | None
    kind: str
    stage: str | None
    done: int
    total: int
    eta_s: float | None
    message: str
    at: datetime | None


class OrderRead(BaseModel):
    id: str
    status: str
    stage: str | None
    progress: ProgressRead | None
    queue_position: int | None = Field(description="orders ahead of this one (queued only)")
    eta_seconds: float | None
    last_heartbeat_at: str | None
    created_at: str | None
    updated_at: str | None
    delivered_at: str | None
    keep_model: bool
    preview: dict[str, Any] | None
    error: ErrorRead | None
    kept_until: dict[str, str | None]
    settings: dict[str, Any]
    photos: int
    events: list[EventRead]


class SetStatus(BaseModel):
    photos: int
    accepted: int
    ready: bool
    min_accepted: int
    advice: list[str]


class PhotoRead(BaseModel):
    id: str
    name: str | None
    position: int
    accepted: bool | None
    reasons: list[ReasonRead]
    detail: str


class UploadResult(BaseModel):
    photo: PhotoRead
    set: SetStatus


class PhotoList(BaseModel):
    photos: list[PhotoRead]
    set: SetStatus


class ApproveIn(_In):
    force: bool = Field(False, description="approve even though the preview said NO-GO")


class MoreCreate(_In):
    style: str = Field(min_length=1, max_length=48)
    count: int = Field(20, ge=1, le=200)
    consent_version: str = Field(max_length=32)


class PreviewImage(BaseModel):
    id: str
    image_id: str | None
    style: str | None


class PreviewRead(BaseModel):
    status: str
    verdict: dict[str, Any] | None
    images: list[PreviewImage]


class DeliveredRead(BaseModel):
    image_id: str
    framing: str
    width: int
    height: int


class CandidateRead(BaseModel):
    id: str | None
    image_id: str | None
    style: str | None
    seed: int | None
    accepted: bool
    selected: bool
    rank: int | None
    stopped_early: bool
    reasons: list[ReasonRead]
    details: list[str]
    scores: dict[str, float]
    delivered: list[DeliveredRead]


class ResultsRead(BaseModel):
    order_id: str
    ai_generated: bool
    labels: dict[str, Any]
    usage_note: str
    summary: dict[str, Any]
    rejection_counts: dict[str, Any]
    files: dict[str, str]
    candidates: list[CandidateRead]
