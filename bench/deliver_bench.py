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


def main() -> None:
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
        t_analyse = _timed(lambda: backend.analyse(px, hands=False, mask=False))
        t_frame = _timed(lambda: frame(px, face, Framing.PORTRAIT, cfg))
        t_plain = _timed(lambda: encode_clean(framed, "JPEG", quality=95))
        data = encode_labelled(framed, "JPEG", xmp, quality=95)
        t_xmp = _timed(lambda: encode_labelled(framed, "JPEG", xmp, quality=95))
        t_sign = _timed(lambda: sign(data, "JPEG", ident, title="x.jpg"))
        with tempfile.TemporaryDirectory() as tmp:
            files = [save_clean(px, Path(tmp) / f"c{i}.png") for i in range(6)]
            sel = Selection(candidates=tuple(
                CandidateRecord(file=f, style="studio", seed=i, accepted=True, selected=True,
                                rank=i + 1) for i, f in enumerate(files)
            ))
            t = time.perf_counter()
            deliver(sel, Path(tmp) / "out", cfg, backend=backend, identity=ident)
            t_all = (time.perf_counter() - t) / len(files)
    print(f"face analyse (1024 px):        {t_analyse * 1e3:7.1f} ms")
    print(f"frame 4:5 (aligned_crop):      {t_frame * 1e3:7.1f} ms")
    print(f"plain JPEG encode (q95):       {t_plain * 1e3:7.1f} ms")
    print(f"JPEG encode + XMP:             {t_xmp * 1e3:7.1f} ms")
    print(f"C2PA sign (ES256, no thumb):   {t_sign * 1e3:7.1f} ms")
    print(f"deliver(), per headshot (2 shapes, decode..report): {t_all * 1e3:7.1f} ms")
    print(f"label overhead: (xmp + sign) / plain encode = {(t_xmp + t_sign) / t_plain:.2f}x")


if __name__ == "__main__":
    main()
