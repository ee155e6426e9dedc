"""Benchmark: judge throughput at 512 px with both cores, memory over 1000 images, against a
naive sequential baseline (full analysis with hands + mask and an embedding for every image,
one process), as ratios from one run. Memory: the parent's RSS and each worker's, every 100.

Run: .venv/bin/python bench/judge_bench.py [--images 1000] [--baseline 200]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=200)
    args = parser.parse_args()
    backend = MediapipeDlibBackend()
    refs = []
    for name in ("obama", "obama3"):
        with Image.open(ROOT / "tests" / "data" / f"{name}.jpg") as im:
            a = np.asarray(im.convert("RGB"))
        refs.append(backend.embed(a, backend.analyse(a, hands=False, mask=False).faces[0]))
    calibration = calibrate(refs)
    with tempfile.TemporaryDirectory() as tmp:
        cands = make_candidates(Path(tmp), args.images)
        naive(cands[:5], backend)  # load models
        base_s = naive(cands[: args.baseline], backend)
        base_rate = args.baseline / base_s
        one_s = time.perf_counter()
        judge_candidates(cands[: args.baseline], calibration, backend=backend)
        one_rate = args.baseline / (time.perf_counter() - one_s)
        rss: list[float] = []
        workers_rss: list[list[float]] = []

        def sample(done: int, total: int, name: str) -> None:
            if done % 100 == 0:
                rss.append(rss_mb())
                workers_rss.append(worker_rss_mb())

        start_rss = rss_mb()
        t0 = time.perf_counter()
        results = judge_candidates(cands, calibration, workers=2, on_progress=sample)
        two_rate = len(cands) / (time.perf_counter() - t0)
    accepted = sum(r.accepted for r in results)
    print(f"{args.images} candidates at 512 px ({accepted} accepted)")
    print(f"naive sequential baseline (full analysis + embed, 1 process): {base_rate:.1f} img/s")
    print(f"judge, 1 process: {one_rate:.1f} img/s ({one_rate / base_rate:.2f}x baseline)")
    print(f"judge, 2 worker processes: {two_rate:.1f} img/s ({two_rate / base_rate:.2f}x baseline)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"parent RSS: start {start_rss:.0f} MB, every 100 images: "
          f"{', '.join(f'{r:.0f}' for r in rss)} MB; peak {peak:.0f} MB")
    print("worker RSS every 100 images: "
          + "; ".join("/".join(f"{r:.0f}" for r in w) for w in workers_rss) + " MB")


if __name__ == "__main__":
    main()
