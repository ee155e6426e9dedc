"""Runners: the in-process runner (embedded default); the Celery runner for scale-out."""

from headshots.runners._inprocess import InProcessRunner
from headshots.runners._protocol import Runner

__all__ = ["InProcessRunner", "Runner"]
