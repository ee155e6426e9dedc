"""Delivery cost per selected headshot at SDXL size (1024x1024 candidates -> 1:1 1024x1024 and
4:5 1024x1280 JPEGs), split into stages, and the cost of the AI label (XMP + signed C2PA)
relative to a plain metadata-free JPEG encode. Run: PYTHONPATH=src python bench/deliver_bench.py
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from headshots.deliver import (  # noqa: E402
    CandidateRecord,
    DeliverConfig,
    Framing,
    Selection,
    deliver,
    encode_labelled,
    frame,
    make_dev_identity,
    sign,
    xmp_packet,
)
from headshots.faces import MediapipeDlibBackend  # noqa: E402
from headshots.media import encode_clean, save_clean  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
N = 12


def _timed(fn, n: int = N) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def measure(n: int = N) -> dict[str, float]:
    """Seconds per call of each step (mean of ``n`` after one warm-up) and per delivered file."""
    cv2.setNumThreads(1)
    with Image.open(DATA / "obama.jpg") as im:
        side = min(im.size)
        px = np.asarray(im.convert("RGB").crop((0, 0, side, side)).resize((1024, 1024)))
    cfg = DeliverConfig()
    ident = make_dev_identity()
    xmp = xmp_packet(description="AI-generated", creator_tool="headshots")
    with MediapipeDlibBackend() as backend:
        face = backend.analyse(px, hands=False, mask=False).faces[0]
        framed = frame(px, face, Framing.PORTRAIT, cfg).pixels
        r = {"analyse": _timed(lambda: backend.analyse(px, hands=False, mask=False), n),
             "frame": _timed(lambda: frame(px, face, Framing.PORTRAIT, cfg), n),
             "plain": _timed(lambda: encode_clean(framed, "JPEG", quality=95), n)}
        data = encode_labelled(framed, "JPEG", xmp, quality=95)
        r["xmp"] = _timed(lambda: encode_labelled(framed, "JPEG", xmp, quality=95), n)
        r["sign"] = _timed(lambda: sign(data, "JPEG", ident, title="x.jpg"), n)
        with tempfile.TemporaryDirectory() as tmp:
            files = [save_clean(px, Path(tmp) / f"c{i}.png") for i in range(6)]
            sel = Selection(candidates=tuple(
                CandidateRecord(file=f, style="studio", seed=i, accepted=True, selected=True,
                                rank=i + 1) for i, f in enumerate(files)
            ))
            t = time.perf_counter()
            deliver(sel, Path(tmp) / "out", cfg, backend=backend, identity=ident)
            r["all"] = (time.perf_counter() - t) / len(files)
    return r


def markdown_section(quick: bool = False) -> str:
    n = 2 if quick else N
    r = measure(n)
    rows = [("face analyse (1024 px)", r["analyse"]), ("frame 4:5 (aligned_crop, cubic)",
            r["frame"]), ("plain metadata-free JPEG encode", r["plain"]),
            ("JPEG encode + XMP", r["xmp"]), ("C2PA sign (ES256, no thumbnail)", r["sign"]),
            ("`deliver()` per headshot, everything incl. sheet/chart/report", r["all"])]
    table = "\n".join(f"| {name} | {sec * 1e3:.1f} |" for name, sec in rows)
    overhead = (r["xmp"] + r["sign"]) / r["plain"]
    return f"""## Delivery: cost per headshot and of the AI label (`bench/deliver_bench.py`)

A 1024×1024 candidate → both shapes (1:1 and 4:5) as JPEG q95, one core, mean of {n} calls:

| step | ms |
|---|---|
{table}

Labelling (XMP + signed C2PA) costs **{overhead:.2f}×** a plain encode, i.e.
{(r["xmp"] + r["sign"] - r["plain"]) * 1e3:.0f} ms per file; delivery is dominated by framing
and encoding, not by provenance.
"""


def main() -> None:
    r = measure()
    print(f"face analyse (1024 px):        {r['analyse'] * 1e3:7.1f} ms")
    print(f"frame 4:5 (aligned_crop):      {r['frame'] * 1e3:7.1f} ms")
    print(f"plain JPEG encode (q95):       {r['plain'] * 1e3:7.1f} ms")
    print(f"JPEG encode + XMP:             {r['xmp'] * 1e3:7.1f} ms")
    print(f"C2PA sign (ES256, no thumb):   {r['sign'] * 1e3:7.1f} ms")
    print(f"deliver(), per headshot (2 shapes, decode..report): {r['all'] * 1e3:7.1f} ms")
    print(f"label overhead: (xmp + sign) / plain encode = "
          f"{(r['xmp'] + r['sign']) / r['plain']:.2f}x")


if __name__ == "__main__":
    main()
