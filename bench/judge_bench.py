"""Benchmark: judge throughput at 512 px with both cores, memory over 1000 images, against a
naive sequential baseline (full analysis with hands + mask and an embedding for every image,
one process), as ratios from one run. Memory: the parent's RSS and each worker's, every 100.

Also judge images/s and memory at 100, 300 and 1000 candidates (each a separate call).

Run: .venv/bin/python bench/judge_bench.py [--sizes 100,300,1000] [--baseline 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from headshots.faces import MediapipeDlibBackend  # noqa: E402
from headshots.judge import calibrate, judge_candidates  # noqa: E402
from headshots.media import decode_image  # noqa: E402
from headshots.types import Candidate  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def worker_rss_mb() -> list[float]:
    """RSS of this process's pool workers (spawned children running ``spawn_main``)."""
    me, out = str(os.getpid()), []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[1] != me:
                continue
            if b"spawn_main" not in (proc / "cmdline").read_bytes():
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS"):
                    out.append(int(line.split()[1]) / 1024)
        except (OSError, IndexError):
            continue  # the process ended while we looked
    return sorted(out)


def make_candidates(folder: Path, n: int) -> list[Candidate]:
    """A realistic mix at 512 px: the person (and mirrors), other people, blur, no face."""
    base = []
    for name in ("obama", "obama2", "obama3", "biden", "astronaut"):
        with Image.open(ROOT / "tests" / "data" / f"{name}.jpg") as im:
            a = np.asarray(im.convert("RGB"))
        base += [a, np.ascontiguousarray(a[:, ::-1])]
    base.append(cv2.GaussianBlur(base[0], (0, 0), 3))
    base.append(np.random.default_rng(0).integers(0, 255, (512, 512, 3), dtype=np.uint8))
    out = []
    for i in range(n):
        a = base[i % len(base)]
        k = 512 / max(a.shape[:2])
        a = cv2.resize(a, (round(a.shape[1] * k), round(a.shape[0] * k)))
        a = np.clip(a.astype(np.int16) + (i % 7) - 3, 0, 255).astype(np.uint8)  # no exact twins
        path = folder / f"c{i:05d}.jpg"
        Image.fromarray(a).save(path, quality=90)
        out.append(Candidate(id=path.stem, path=path, style="unknown", seed=i))
    return out


def naive(candidates: list[Candidate], backend: MediapipeDlibBackend) -> float:
    t0 = time.perf_counter()
    for c in candidates:
        image = decode_image(c.path).pixels
        a = backend.analyse(image, hands=True, mask=True)
        if a.faces:
            backend.embed(image, a.faces[0])
    return time.perf_counter() - t0


def measure(sizes: tuple[int, ...] = (100, 300, 1000), baseline: int = 200) -> dict:
    """Baseline and one-process judge on ``baseline`` images; then the judge with both cores on
    each size, sampling RSS (parent and workers) every 10 images (the series: every 100)."""
    backend = MediapipeDlibBackend()
    refs = []
    for name in ("obama", "obama3"):
        with Image.open(ROOT / "tests" / "data" / f"{name}.jpg") as im:
            a = np.asarray(im.convert("RGB"))
        refs.append(backend.embed(a, backend.analyse(a, hands=False, mask=False).faces[0]))
    calibration = calibrate(refs)
    out: dict = {"baseline_n": baseline, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        cands = make_candidates(Path(tmp), max(sizes))
        naive(cands[:5], backend)  # load models
        judge_candidates(cands[:5], calibration, backend=backend)
        # baseline and the one-process judge interleaved in chunks, so a change in the shared
        # machine's load hits both alike
        base_s = one_s = 0.0
        for i in range(0, baseline, 20):
            chunk = cands[i:min(i + 20, baseline)]
            base_s += naive(chunk, backend)
            t0 = time.perf_counter()
            judge_candidates(chunk, calibration, backend=backend)
            one_s += time.perf_counter() - t0
        out["base_rate"], out["one_rate"] = baseline / base_s, baseline / one_s
        for n in sizes:
            # the baseline again right before each run it is compared with
            near = cands[:min(40, baseline)]
            base_near = len(near) / naive(near, backend)
            rss: list[float] = []
            workers_rss: list[list[float]] = []
            peak = {"parent": 0.0, "total": 0.0}

            def sample(done: int, total: int, name: str, rss=rss, workers_rss=workers_rss,
                       peak=peak) -> None:
                if done % 10 == 0 or done == total:
                    parent, workers = rss_mb(), worker_rss_mb()
                    peak["parent"] = max(peak["parent"], parent)
                    peak["total"] = max(peak["total"], parent + sum(workers))
                    if done % 100 == 0:
                        rss.append(parent)
                        workers_rss.append(workers)

            start_rss = rss_mb()
            t0 = time.perf_counter()
            results = judge_candidates(cands[:n], calibration, workers=2, on_progress=sample)
            seconds = time.perf_counter() - t0
            out["runs"][n] = {"rate": n / seconds, "seconds": seconds, "start_rss": start_rss,
                              "base": base_near,
                              "rss": rss, "workers_rss": workers_rss, **peak,
                              "accepted": sum(r.accepted for r in results)}
    out["ru_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def markdown_section(quick: bool = False) -> str:
    sizes, baseline = ((8,), 5) if quick else ((100, 300, 1000), 200)
    r = measure(sizes, baseline)
    base = r["base_rate"]
    rows = [f"| our judge, 1 process, {baseline} candidates (interleaved with the baseline) | "
            f"{r['one_rate']:.1f} | {base:.1f} | {r['one_rate'] / base:.2f}× | | |"]
    for n, run in r["runs"].items():
        rows.append(f"| our judge, 2 worker processes, {n} candidates | {run['rate']:.1f} | "
                    f"{run['base']:.1f} | **{run['rate'] / run['base']:.2f}×** | "
                    f"{run['parent']:.0f} MB | {run['total']:.0f} MB |")
    table = "\n".join(rows)
    big = r["runs"][max(sizes)]
    series = (f"at the start, then every 100 images: {', '.join(f'{x:.0f}' for x in big['rss'])}"
              if big["rss"] else "at the start")
    return f"""## Judge throughput and memory (`bench/judge_bench.py`)

Candidates at 512 px (a mix of the test photos, their mirrors, other people, a blurred copy
and noise), judged against two reference photos. Baseline: the naive sequential way — full
analysis (detection, mesh, hands, person mask) plus an identity embedding for every image, one
process, measured next to each figure it is compared with (interleaved in chunks of 20 with the
one-process judge; on 40 images right before each two-worker run), as the shared machine's load
changes. Each size is a separate judge call that starts its own two worker processes (their
model loading is inside the time, as it is for an order); memory is sampled every 10 images.

| what | images/s | baseline images/s | vs baseline | parent RSS peak | parent + workers peak |
|---|---|---|---|---|---|
{table}

Memory over the {max(sizes)} images: the parent's RSS was {big["start_rss"]:.0f} MB {series} MB
(peak {big["parent"]:.0f} MB) — images are decoded one at a time and only small records are
kept; each worker holds its own face backend. Two workers are faster only when two cores are
free: with the shared machine's load above its core count (header), they share the cores with
other sessions' processes. The judge skips the embedding (~60 ms, its floor) once a cheaper
check has failed. For comparison, DESIGN.md's naive `face_recognition`
pipeline (HOG + encode + landmarks) ran at ~6 img/s at ≤512 px; `face_recognition` itself is
not installed here, so that number is not re-measured.
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,300,1000",
                        help="candidate counts judged with 2 workers, comma-separated")
    parser.add_argument("--baseline", type=int, default=200)
    args = parser.parse_args()
    sizes = tuple(int(x) for x in args.sizes.split(","))
    r = measure(sizes, args.baseline)
    base = r["base_rate"]
    print(f"naive sequential baseline (full analysis + embed, 1 process): {base:.1f} img/s")
    print(f"judge, 1 process: {r['one_rate']:.1f} img/s ({r['one_rate'] / base:.2f}x baseline)")
    for n, run in r["runs"].items():
        print(f"judge, 2 worker processes, {n} candidates ({run['accepted']} accepted): "
              f"{run['rate']:.1f} img/s ({run['rate'] / run['base']:.2f}x the baseline's "
              f"{run['base']:.1f} just before); peak RSS parent "
              f"{run['parent']:.0f} MB, parent + workers {run['total']:.0f} MB")
        print(f"  parent RSS: start {run['start_rss']:.0f} MB, every 100 images: "
              f"{', '.join(f'{x:.0f}' for x in run['rss'])} MB")
        print("  worker RSS every 100 images: "
              + "; ".join("/".join(f"{x:.0f}" for x in w) for w in run["workers_rss"]) + " MB")
    print(f"parent peak (ru_maxrss) {r['ru_maxrss']:.0f} MB")


if __name__ == "__main__":
    main()
