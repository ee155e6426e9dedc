"""Safe image decoding: sniff the real format, check size from the header, then decode.

Only JPEG, PNG, WebP, HEIC/HEIF and AVIF are accepted, whatever the file name says. The pixel
limits are checked from the header before any pixel is decoded, so a decompression bomb costs
milliseconds. Large JPEGs (48-200 MP phone photos) decode straight to 1/2-1/8 scale, and a HEIC
with a large enough embedded preview decodes that, so they are accepted up to a higher limit than
formats that must be decoded whole. EXIF orientation is applied and every mode (RGBA, 16-bit,
CMYK, grey, palette) becomes 8-bit RGB; nothing of the upload's metadata is carried along.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from headshots.config import DecodeConfig
from headshots.errors import ImageError
from headshots.types import Reason

__all__ = ["DecodedImage", "decode_image", "sniff_format", "looks_like_image", "ACCEPTED_FORMATS",
           "BACKDROP", "IMAGE_SUFFIXES"]

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "AVIF")
_REDUCIBLE = ("JPEG", "HEIF")  # formats that can decode at a reduced size
_FORMAT_NAMES = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC", "AVIF": "AVIF"}
# transparent areas are filled with a light neutral grey, like a plain studio backdrop
BACKDROP = (224, 224, 224)

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
    transparent_fraction: float = 0.0  # share of pixels that were (mostly) transparent

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as the photo is shown: the stored size, turned by its orientation."""
        w, h = self.original_size
        return (h, w) if self.orientation in (5, 6, 7, 8) else (w, h)

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
        data = _read(path, name, config)
    if len(data) > config.max_bytes:
        raise ImageError(Reason.TOO_LARGE, f"{name}: the file is over the size limit")
    fmt = sniff_format(data[:32])
    if fmt is None:
        if _looks_like_other_image(data):
            raise ImageError(
                Reason.UNSUPPORTED_FORMAT, f"{name}: this image format is not supported"
            )
        raise ImageError(Reason.UNREADABLE, f"{name}: not a readable image")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb limit is global and its message is not ours: we check below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with _open(data, fmt) as im:
                w, h = im.size  # from the header: nothing decoded yet
                _check_size(im, fmt, name, config)
                orientation = int(im.getexif().get(0x0112, 1) or 1)
                icc = im.info.get("icc_profile")
                upright: Image.Image = ImageOps.exif_transpose(im) or im
                rgb, transparent = _to_rgb(_to_srgb(upright, icc if isinstance(icc, bytes)
                                                    else None))
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageError(Reason.UNREADABLE, f"{name}: the image data is damaged ({exc})") from exc
    return DecodedImage(pixels=rgb, format=fmt, original_size=(w, h), orientation=orientation,
                        name=name, transparent_fraction=transparent)


def _read(path: Path, name: str, config: DecodeConfig) -> bytes:
    """The file's bytes; a file that cannot be read (permissions, a broken link, a disk error)
    is ``unreadable``, never an exception that ends the whole check."""
    try:
        size = path.stat().st_size
        if size > config.max_bytes:
            raise ImageError(
                Reason.TOO_LARGE,
                f"{name}: the file is {size / 1e6:.0f} MB, over the {config.max_bytes / 1e6:.0f} MB"
                " limit", "resize or re-export it smaller")
        return path.read_bytes()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise ImageError(Reason.UNREADABLE, f"{name}: cannot be read ({why})",
                         "check the file can be opened (permissions, a synced or moved file), "
                         "or export it again as JPEG") from exc


def _open(data: bytes, fmt: str) -> ImageFile.ImageFile:
    """Open with the format's own plugin class: ``Image.open`` would apply Pillow's global
    decompression-bomb limit, which would refuse a 200 MP phone JPEG that decodes reduced."""
    if fmt == "HEIF":
        _register_heif()
    Image.init()
    if fmt not in Image.OPEN:  # e.g. a Pillow built without AVIF
        raise ImageError(Reason.UNSUPPORTED_FORMAT,
                         f"this installation cannot decode {_FORMAT_NAMES[fmt]} images")
    factory = Image.OPEN[fmt][0]
    im = factory(io.BytesIO(data), "")
    assert isinstance(im, ImageFile.ImageFile)
    return im


def _mp(pixels: int) -> str:
    return f"{pixels / 1e6:.0f}"


def _check_size(im: ImageFile.ImageFile, fmt: str, name: str, config: DecodeConfig) -> None:
    """Refuse too many pixels from the header, before anything is decoded; large JPEGs (1/2 to
    1/8 scale) and HEICs with a big enough embedded preview are decoded reduced instead."""
    w, h = im.size
    reducible = fmt in _REDUCIBLE
    limit = config.max_pixels_reduced if reducible else config.max_pixels
    if w * h > limit:
        raise ImageError(
            Reason.TOO_LARGE,
            f"{name}: {w}×{h} is {_mp(w * h)} megapixels, over the {_mp(limit)} MP limit for "
            f"{_FORMAT_NAMES[fmt]} images", f"resize it to at most {_mp(limit)} megapixels")
    f = config.decode_max_side / max(w, h)
    if reducible and f < 1:
        im.draft("RGB", (int(w * f) + 1, int(h * f) + 1))  # HEIC: an embedded preview, if any
    dw, dh = im.size
    if dw * dh > config.max_pixels:
        raise ImageError(
            Reason.TOO_LARGE,
            f"{name}: {w}×{h} is {_mp(w * h)} megapixels; this {_FORMAT_NAMES[fmt]} file has no "
            f"preview to decode at a smaller size, and full decodes stop at "
            f"{_mp(config.max_pixels)} MP",
            f"resize it to at most {_mp(config.max_pixels)} megapixels, or export it as JPEG")


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


def _to_rgb(im: Image.Image) -> tuple[np.ndarray, float]:
    """8-bit RGB pixels and the share of pixels that were transparent (alpha < 50 %)."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        grey = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2), 0.0
    transparent = 0.0
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        transparent = float((np.asarray(im.getchannel("A")) < 128).mean())
        bg = Image.new("RGBA", im.size, (*BACKDROP, 255))
        im = Image.alpha_composite(bg, im)
    return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8)), transparent


# names that say "image", whether or not we accept the format: such files are reported with a
# reason (unsupported_format, unreadable), never skipped as "not a photo"
IMAGE_SUFFIXES = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".heic", ".heif", ".hif", ".avif",
    ".gif", ".bmp", ".tif", ".tiff", ".psd", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf",
    ".orf", ".rw2", ".raw", ".jxl", ".svg", ".ico", ".tga",
})


def looks_like_image(name: str, head: bytes) -> bool:
    """Whether a file is meant as an image, from its name and first bytes (64 are plenty): a
    photo saved under the wrong name counts, a text file or a document does not."""
    if Path(name).suffix.lower() in IMAGE_SUFFIXES or sniff_format(head[:32]) is not None:
        return True
    return _looks_like_other_image(head)
