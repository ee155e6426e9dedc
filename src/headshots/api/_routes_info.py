"""What anyone may read before signing in: the consent text, the retention schedule, the
style catalog, and a health check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from headshots.orders import CONSENT_VERSION, consent_sha256, consent_text, retention_text
from headshots.orders import style_catalog as _styles

from ._deps import services
from ._schemas import ConsentRead, RetentionRead, StyleRead

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["information"])


@router.get("/consent", response_model=ConsentRead, summary="The consent text and its version")
def consent(request: Request) -> Any:
    schedule = services(request).settings.retention
    return {"version": CONSENT_VERSION, "text": consent_text(schedule),
            "sha256": consent_sha256(schedule)}


@router.get("/retention", response_model=RetentionRead, summary="The retention schedule")
def retention(request: Request) -> Any:
    schedule = services(request).settings.retention
    return {"text": retention_text(schedule), "schedule": schedule.model_dump()}


@router.get("/styles", response_model=list[StyleRead], summary="The style catalog")
def styles() -> Any:
    return _styles()


@router.get("/health", summary="Liveness: the database answers")
def health(request: Request) -> dict[str, str]:
    services(request).workflow.list_orders(owner="-health-")
    return {"status": "ok"}
