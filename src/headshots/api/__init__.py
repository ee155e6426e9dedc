"""The HTTP service: ``create_app(settings)`` (FastAPI), the API under ``/api/v1``, accounts
and API tokens, webhooks and the service's timer. It only calls ``headshots.orders``: no stage
core is imported here (import-linter checks it).

``headshots serve`` runs it with uvicorn; ``docs/api.md`` describes the API.
"""

from headshots.api._app import create_app
from headshots.api._deps import Services
from headshots.api._webhooks import sign as sign_webhook
from headshots.api._webhooks import verify as verify_webhook

__all__ = ["Services", "create_app", "sign_webhook", "verify_webhook"]
