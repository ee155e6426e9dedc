"""Re-encoding from pixels, so no metadata of an upload survives anywhere we store."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from headshots.errors import ConfigError

__all__ = ["save_clean", "encode_clean", "downscale"]


def encode_clean(pixels: np.ndarray, fmt: str = "PNG", *, quality: int = 92) -> bytes:
    """PNG or JPEG bytes made from pixels alone: no EXIF, GPS, XMP, ICC or comments."""
    fmt = fmt.upper()
    if fmt not in ("PNG", "JPEG"):
        raise ConfigError(f"fmt must be PNG or JPEG, got {fmt!r}", "pass fmt='PNG'")
    im = Image.fromarray(np.ascontiguousarray(pixels), "RGB")
    buf = io.BytesIO()
    if fmt == "JPEG":
        im.save(buf, "JPEG", quality=quality, optimize=True)
    else:
        im.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def save_clean(pixels: np.ndarray, path: str | Path, *, quality: int = 92) -> Path:
    """Write pixels to ``path`` (format from the suffix: .png or .jpg/.jpeg), metadata-free."""
    path = Path(path)
    fmt = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"path must end in .png, .jpg or .jpeg, got {path.name!r}", "rename it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(encode_clean(pixels, fmt, quality=quality))
    tmp.replace(path)  # atomic: a crash never leaves half a file under the real name
    return path


def downscale(pixels: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """A copy no larger than ``max_side`` and the factor applied (1.0 when already small)."""
    h, w = pixels.shape[:2]
    f = max_side / max(h, w)
    if f >= 1:
        return pixels, 1.0
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), f
