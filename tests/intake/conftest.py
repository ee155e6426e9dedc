"""Variants live in tests/conftest.py; re-exported for the intake tests."""

from tests.conftest import jpeg

__all__ = ["jpeg"]
