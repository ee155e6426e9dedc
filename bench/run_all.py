"""Re-run every benchmark and write BENCHMARKS.md: one command, one run, each figure a ratio
measured in that run next to what it is compared with.

Run: .venv/bin/python bench/run_all.py [--quick] [--out BENCHMARKS.md] [--only judge_bench,...]

Each bench module exposes ``markdown_section(quick: bool = False) -> str``; each runs in its own
process (the training bench holds GBs, the faces bench pins itself to one core, the judge bench
measures its own RSS), in the fixed order below. ``--quick`` shrinks every bench to seconds, a
smoke run that proves the command still works (tests/test_bench.py); its figures mean nothing.
A section that fails is written as failed and the command exits 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
SECTIONS = ["intake_bench", "train_bench", "generate_bench", "judge_bench", "faces_bench",
            "api_upload_bench", "deliver_bench", "workers_bench"]
OPTIONAL = {"workers_bench"}  # written with the Celery runner; skipped where it is not there


def _run(args: list[str]) -> str:
    try:
        return subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor() or "unknown CPU") if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    mem = ""
    if Path("/proc/meminfo").exists():
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 ** 2:.0f} GB RAM"
    return f"{_cores()} cores ({cpu}){mem}, {platform.system()} {platform.release()}, " \
        f"Python {platform.python_version()}"


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else (os.cpu_count() or 1)


def gpu() -> str:
    code = ("import torch; print(torch.__version__); print(torch.cuda.get_device_name(0) "
            "if torch.cuda.is_available() else '')")
    out = _run([sys.executable, "-c", code]).splitlines()
    torch_version = out[0] if out else "?"
    name = out[1] if len(out) > 1 else ""
    return (f"GPU: {name} (torch {torch_version})" if name else
            f"**no GPU lent** (torch {torch_version}: `torch.cuda.is_available()` is False), so "
            "GPU training and generation speeds are not measured")


def commit() -> str:
    """The commit measured (taken at the start: a commit made during the run is not it)."""
    name = _run(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    dirty = " (with uncommitted changes)" if _run(["git", "status", "--porcelain",
                                                   "--untracked-files=no"]) else ""
    return f"`{name}`{dirty}"


def header(quick: bool, started: datetime, measured: str, loads: list[float]) -> str:
    smoke = ("\n**Quick smoke run (`--quick`): tiny inputs, the figures mean nothing.**\n"
             if quick else "")
    return f"""# Benchmarks

Written by `bench/run_all.py{" --quick" if quick else ""}` on {started:%Y-%m-%d %H:%M} UTC
at commit {measured}.
Machine: {machine()}; {gpu()}.
The machine is **shared with other sessions' runs and tests**: its load average (1 min) was
{", ".join(f"{x:.1f}" for x in loads)} at the start and after each section, on {_cores()} cores.
Absolute times carry that load; comparisons are ratios measured in the same run (the two sides
interleaved or back to back), which it hits alike. Re-run: `.venv/bin/python bench/run_all.py`
(about 10 minutes here).
{smoke}"""


def section(name: str, quick: bool) -> tuple[str, float, bool]:
    """Run one bench's markdown_section in a fresh process; (markdown, seconds, ok)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "section.md"
        code = (f"import sys; sys.path[:0] = [{str(BENCH)!r}, {str(ROOT / 'src')!r}]; "
                f"import {name}; from pathlib import Path; "
                f"Path({str(out)!r}).write_text({name}.markdown_section(quick={quick}))")
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1",
               "OMP_NUM_THREADS": "1", "GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0 or not out.exists():
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            return (f"## `bench/{name}.py` — FAILED\n\nexit {proc.returncode}:\n\n```\n{tail}\n"
                    "```\n", seconds, False)
        return out.read_text(), seconds, True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--only", default="", help="comma-separated bench modules")
    args = parser.parse_args()
    chosen = [n for n in SECTIONS if not args.only or n in args.only.split(",")]
    started, measured, loads = datetime.now(UTC), commit(), [os.getloadavg()[0]]
    parts, ok = [], True
    for name in chosen:
        if not (BENCH / f"{name}.py").exists():
            if name in OPTIONAL:
                continue
            parts.append(f"## `bench/{name}.py` — missing\n")
            ok = False
            continue
        print(f"{name} ...", end=" ", flush=True)
        text, seconds, good = section(name, args.quick)
        print(f"{'done' if good else 'FAILED'} in {seconds:.0f} s", flush=True)
        ok = ok and good
        parts.append(text.rstrip() + f"\n\n*(section measured in {seconds:.0f} s)*\n")
        loads.append(os.getloadavg()[0])
    args.out.write_text("\n".join([header(args.quick, started, measured, loads), *parts]))
    print(f"wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
