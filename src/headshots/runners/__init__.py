"""Runners: the in-process runner (embedded default); the Celery runner for scale-out
(``HEADSHOTS_BROKER_URL``; Celery is imported only when one is used)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from headshots.runners._inprocess import InProcessRunner
from headshots.runners._protocol import Runner

if TYPE_CHECKING:
    from headshots.runners._celery import QUEUES, CeleryRunner, build_runner, make_celery
    from headshots.runners._reaper import reap

__all__ = ["QUEUES", "CeleryRunner", "InProcessRunner", "Runner", "build_runner",
           "make_celery", "reap"]

_WHERE = {"QUEUES": "_celery", "CeleryRunner": "_celery", "build_runner": "_celery",
          "make_celery": "_celery", "reap": "_reaper"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"headshots.runners.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'headshots.runners' has no attribute {name!r}")
