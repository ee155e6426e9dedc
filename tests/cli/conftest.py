"""CLI test helpers: the log file in a temporary place, a guard that no slow work starts, and a
real ``headshots`` process that file permissions bind even when the tests run as root."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


@pytest.fixture(autouse=True)
def _log_in_tmp(tmp_path, monkeypatch):
    """Third-party output of every command under test goes to a log of the test's own."""
    monkeypatch.setenv("HEADSHOTS_LOG", str(tmp_path / "headshots.log"))


@pytest.fixture()
def no_slow_work(monkeypatch):
    """Fail the test if a command starts slow work: loading a face or diffusion model, the
    selfie check, training."""
    import headshots.faces
    import headshots.finetune
    import headshots.generate
    import headshots.intake

    def slow(*args, **kwargs):
        raise AssertionError("slow work started before the arguments were checked")

    for module, name in ((headshots.faces, "default_backend"),
                         (headshots.finetune, "load_base_model"),
                         (headshots.finetune, "train_lora"),
                         (headshots.generate, "DiffusersGenerator"),
                         (headshots.intake, "check_set")):
        monkeypatch.setattr(module, name, slow)


def _drop_file_override() -> None:  # runs in the child, before exec
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_headshots(args: list[str], log: Path, *, bound_by_permissions: bool = False
                  ) -> subprocess.CompletedProcess[str]:
    """``python -m headshots ARGS`` as a real process (real file descriptors, real stderr).

    With ``bound_by_permissions``, a root test run starts the child without the capabilities
    that let root ignore file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): a chmod 000 photo or
    a read-only folder then refuses it as it would refuse anyone. Not as root, modes bind anyway.
    """
    env = {**os.environ, "HEADSHOTS_LOG": str(log), "COLUMNS": "200"}
    preexec = _drop_file_override if bound_by_permissions and os.geteuid() == 0 else None
    try:
        return subprocess.run([sys.executable, "-m", "headshots", *args], env=env, text=True,
                              capture_output=True, timeout=300, preexec_fn=preexec)
    except subprocess.SubprocessError as exc:
        if "preexec_fn" in str(exc):
            pytest.skip("cannot drop CAP_DAC_OVERRIDE here, so root ignores file modes")
        raise
