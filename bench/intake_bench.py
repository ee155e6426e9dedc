"""Benchmark: `headshots check` on 20 phone-size (12 MP, 4032x3024) JPEGs.

Run: .venv/bin/python bench/intake_bench.py
Prints the wall time of the whole check and, for comparison in the same run, the same check with
JPEG draft decoding switched off (full 12 MP decode, then downscale) — as a ratio.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from headshots.config import DecodeConfig, IntakeConfig  # noqa: E402
from headshots.faces import MediapipeDlibBackend  # noqa: E402
from headshots.intake import check_set  # noqa: E402


def make_photos(folder: Path, n: int = 20) -> list[tuple[str, Path]]:
    names = ["obama", "obama2", "obama3", "biden", "astronaut"]
    out = []
    for i in range(n):
        with Image.open(ROOT / "tests" / "data" / f"{names[i % len(names)]}.jpg") as im:
            im = im.convert("RGB")
            if i // len(names) % 2:
                im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            # fit into 4032x3024 (portrait photos into 3024x4032) like a phone camera would
            size = (3024, 4032) if im.height > im.width else (4032, 3024)
            canvas = Image.new("RGB", size, (90 + 7 * i, 100, 110))
            k = min(size[0] / im.width, size[1] / im.height)
            big = im.resize((int(im.width * k), int(im.height * k)), Image.Resampling.BICUBIC)
            canvas.paste(big, ((size[0] - big.width) // 2, (size[1] - big.height) // 2))
            noise = np.random.default_rng(i).integers(-6, 7, (size[1], size[0], 3))
            arr = np.clip(np.asarray(canvas).astype(np.int16) + noise, 0, 255).astype(np.uint8)
            buf = io.BytesIO()
            Image.fromarray(arr).save(buf, "JPEG", quality=90)
            path = folder / f"IMG_{i:04d}.jpg"
            path.write_bytes(buf.getvalue())
            out.append((path.name, path))
    return out


def measure(n: int = 20) -> dict[str, float]:
    """The whole check of ``n`` 12 MP photos, then the same with JPEG draft decoding off."""
    backend = MediapipeDlibBackend()
    with tempfile.TemporaryDirectory() as tmp:
        sources = make_photos(Path(tmp), n)
        mp = sum(Image.open(p).size[0] * Image.open(p).size[1] for _, p in sources) / 1e6 / n
        check_set(sources[:2], backend)  # load the models outside the timing
        t0 = time.perf_counter()
        report = check_set(sources, backend, IntakeConfig())
        fast = time.perf_counter() - t0
        no_draft = IntakeConfig(decode=DecodeConfig(decode_max_side=100_000))
        t0 = time.perf_counter()
        check_set(sources, backend, no_draft)
        slow = time.perf_counter() - t0
    return {"n": n, "mp": mp, "accepted": report.set.accepted, "fast": fast, "slow": slow}


def markdown_section(quick: bool = False) -> str:
    r = measure(2 if quick else 20)
    n = r["n"]
    what_slow = "same with JPEG draft decoding off (full 12 MP decode, then downscale)"
    return f"""## Intake: `headshots check` on {n} phone photos (`bench/intake_bench.py`)

{n} JPEGs of {r["mp"]:.1f} MP (4032×3024, made from the test photos), whole check including
decoding, face detection, mesh, person mask, dlib embedding, duplicates, identity and variety:

| what | result |
|---|---|
| check of {n} photos | {r["fast"]:.2f} s ({n / r["fast"]:.1f} photos/s) |
| {what_slow} | {r["slow"]:.2f} s — **{r["slow"] / r["fast"]:.2f}× slower** |

Target (issue #2): "20 phone-size photos checked in a few seconds" — \
{"met" if r["fast"] / n * 20 < 5 else "not met"} in this run ({r["fast"] / n * 20:.1f} s for 20, \
under the load the header gives).
"""


def main() -> None:
    r = measure()
    print(f"photos: 20 JPEGs of {r['mp']:.1f} MP; accepted {r['accepted']}")
    print(f"check, 20 photos: {r['fast']:.2f} s ({20 / r['fast']:.1f} photos/s)")
    print(f"same without draft decoding: {r['slow']:.2f} s; ratio {r['slow'] / r['fast']:.2f}x "
          "slower")


if __name__ == "__main__":
    main()
