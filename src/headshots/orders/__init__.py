"""The order workflow: one durable, resumable flow (check → prepare → train → preview →
approval → generate → judge/select → deliver) for every front end, with consent first,
encryption at rest, a published retention schedule and verifiable deletion.

Front ends (CLI, HTTP API, web page) and runners (in-process, Celery) only call this package;
it holds no Typer, Rich or FastAPI code.
"""

from headshots.orders._consent import (
    CONSENT_VERSION,
    ConsentChoice,
    consent_sha256,
    consent_text,
    retention_text,
)
from headshots.orders._context import Cancelled, Runtime, StageContext
from headshots.orders._delivered import (
    delivery_zip,
    more_of_style,
    order_results,
    preview_images,
    result_image,
    style_catalog,
)
from headshots.orders._events import Event, EventSink, Listener, read_events
from headshots.orders._lease import describe_owner, make_owner
from headshots.orders._params import OrderParams
from headshots.orders._photos import StoredPhoto, fingerprint
from headshots.orders._retention import delete_order, due_dates, purge, receipts
from headshots.orders._scratch import sweep_scratch
from headshots.orders._views import order_summary
from headshots.orders._workflow import STAGES, StageOutcome, Workflow

__all__ = [
    "CONSENT_VERSION",
    "STAGES",
    "Cancelled",
    "ConsentChoice",
    "Event",
    "EventSink",
    "Listener",
    "OrderParams",
    "Runtime",
    "StageContext",
    "StageOutcome",
    "StoredPhoto",
    "Workflow",
    "consent_sha256",
    "consent_text",
    "delete_order",
    "delivery_zip",
    "describe_owner",
    "due_dates",
    "fingerprint",
    "make_owner",
    "more_of_style",
    "order_results",
    "order_summary",
    "preview_images",
    "purge",
    "read_events",
    "receipts",
    "result_image",
    "retention_text",
    "style_catalog",
    "sweep_scratch",
]
