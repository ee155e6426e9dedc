"""The one benchmark command cannot rot: every bench's quick section renders (a `## ` heading,
a table, ratios), and bench/run_all.py assembles them under its header."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import run_all  # noqa: E402

pytestmark = pytest.mark.slow
PRESENT = [n for n in run_all.SECTIONS if (BENCH / f"{n}.py").exists()]
# real Celery workers on Redis and PostgreSQL: ~2 min even in quick mode, too long for every CI
# run; tests/runners covers the runner itself
TOO_SLOW = {"workers_bench"}


def test_every_required_bench_is_there():
    assert set(run_all.SECTIONS) - set(PRESENT) <= run_all.OPTIONAL


@pytest.mark.parametrize("name", [n for n in PRESENT if n not in TOO_SLOW])
def test_each_quick_section_renders(name):
    text = importlib.import_module(name).markdown_section(quick=True)
    assert text.startswith("## ")
    assert "|---" in text and re.search(r"\d\.\d\d×", text), text
    assert not re.search(r"\b(nan|inf)\b", text), text


def test_run_all_writes_the_header_and_a_section(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    proc = subprocess.run([sys.executable, str(BENCH / "run_all.py"), "--quick", "--out",
                           str(out), "--only", "deliver_bench"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert text.startswith("# Benchmarks") and "Quick smoke run" in text
    assert re.search(r"at commit `[0-9a-f]{7,}`", text) and "shared with other" in text
    assert "no GPU lent" in text or "GPU: " in text
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert len(headings) == 1 and "deliver" in headings[0] and "section measured in" in text
