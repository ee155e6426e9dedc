"""The service's public names and its error statuses."""

from __future__ import annotations

import headshots.api
import headshots.orders
from headshots import errors


def test_all_names_exist():
    for module in (headshots.api, headshots.orders):
        assert all(hasattr(module, n) for n in module.__all__)
        assert len(set(module.__all__)) == len(module.__all__)


def test_service_errors_answer_their_status():
    assert errors.AuthError("x").http_status == 401
    assert errors.CsrfError("x").http_status == 403
    assert errors.RateLimited("x", retry_after=7).http_status == 429
    assert errors.RateLimited("x", retry_after=7).retry_after == 7
    assert errors.NotFoundError("x").http_status == 404
