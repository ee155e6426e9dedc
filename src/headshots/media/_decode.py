"""Safe image decoding: sniff the real format, check size from the header, then decode.

Only JPEG, PNG, WebP, HEIC/HEIF and AVIF are accepted, whatever the file name says. The pixel
limit is checked from the header before any pixel is decoded, so a decompression bomb costs
milliseconds. EXIF orientation is applied and every mode (RGBA, 16-bit, CMYK, grey, palette)
becomes 8-bit RGB; nothing of the upload's metadata is carried along.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from headshots.config import DecodeConfig
from headshots.errors import ImageError
from headshots.types import Reason

__all__ = ["DecodedImage", "decode_image", "sniff_format", "ACCEPTED_FORMATS"]

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "AVIF")

_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


@dataclass(frozen=True)
class DecodedImage:
    pixels: np.ndarray  # (H, W, 3) uint8 RGB, orientation applied
    format: str  # one of ACCEPTED_FORMATS
    original_size: tuple[int, int]  # (width, height) as stored, before orientation
    orientation: int  # the EXIF orientation that was applied (1 = none)
    name: str = ""

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def sniff_format(head: bytes) -> str | None:
    """The container format from the first bytes, or None when it is not one we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
            return "HEIF"
    return None


def decode_image(
    source: bytes | str | Path, config: DecodeConfig | None = None, *, name: str = ""
) -> DecodedImage:
    """Decode ``source`` (bytes or a path) into RGB uint8, or raise ``ImageError`` with the
    reason code (unreadable, unsupported_format, too_large)."""
    config = config or DecodeConfig()
    if isinstance(source, bytes):
        data, name = source, name or "<bytes>"
    else:
        path = Path(source)
        name = name or path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ImageError(Reason.UNREADABLE, f"{name}: cannot be read ({exc.strerror})") from exc
        if size > config.max_bytes:
            raise ImageError(
                Reason.TOO_LARGE,
                f"{name}: the file is {size / 1e6:.0f} MB, over the {config.max_bytes / 1e6:.0f} MB"
                " limit",
            )
        data = path.read_bytes()
    if len(data) > config.max_bytes:
        raise ImageError(Reason.TOO_LARGE, f"{name}: the file is over the size limit")
    fmt = sniff_format(data[:32])
    if fmt is None:
        if _looks_like_other_image(data):
            raise ImageError(
                Reason.UNSUPPORTED_FORMAT, f"{name}: this image format is not supported"
            )
        raise ImageError(Reason.UNREADABLE, f"{name}: not a readable image")
    if fmt in ("HEIF", "AVIF"):
        _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=_pil_formats(fmt))
            w, h = im.size  # from the header: nothing decoded yet
            if w * h > config.max_pixels:
                raise ImageError(
                    Reason.TOO_LARGE,
                    f"{name}: {w}×{h} is {w * h / 1e6:.0f} megapixels, over the "
                    f"{config.max_pixels / 1e6:.0f} MP limit",
                )
            if fmt == "JPEG":
                # decode straight to a smaller size when the work copy is small anyway
                f = config.decode_max_side / max(w, h)
                if f < 1:
                    im.draft("RGB", (int(w * f) + 1, int(h * f) + 1))
            orientation = int(im.getexif().get(0x0112, 1) or 1)
            icc = im.info.get("icc_profile")
            upright: Image.Image = ImageOps.exif_transpose(im) or im
            rgb = _to_rgb(_to_srgb(upright, icc if isinstance(icc, bytes) else None))
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(
            Reason.TOO_LARGE,
            f"{name}: over the {config.max_pixels / 1e6:.0f} MP limit ({exc})",
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageError(Reason.UNREADABLE, f"{name}: the image data is damaged ({exc})") from exc
    return DecodedImage(
        pixels=rgb, format=fmt, original_size=(w, h), orientation=orientation, name=name
    )


def _pil_formats(fmt: str) -> list[str]:
    return ["HEIF", "AVIF"] if fmt in ("HEIF", "AVIF") else [fmt]


def _looks_like_other_image(data: bytes) -> bool:
    """True when Pillow recognises some other image format (GIF, BMP, TIFF, PSD, TGA, ...)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)):
                return True
    except Exception:  # noqa: BLE001 - anything unparseable is simply not an image we know
        return data.startswith((b"%PDF", b"8BPS"))


_SRGB: ImageCms.ImageCmsProfile | None = None


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert with an embedded ICC profile (phones shoot Display P3) so colours stay right once
    the profile is dropped; a malformed profile is ignored, never trusted further."""
    global _SRGB
    if not icc or im.mode not in ("RGB", "CMYK"):
        return im
    try:
        if _SRGB is None:
            _SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        out = ImageCms.profileToProfile(im, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB,
                                        outputMode="RGB")
        return out if out is not None else im
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im


def _to_rgb(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        grey = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        # transparent areas become mid grey: neither a black nor a white halo around the person
        bg = Image.new("RGBA", im.size, (128, 128, 128, 255))
        im = Image.alpha_composite(bg, im)
    return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))
