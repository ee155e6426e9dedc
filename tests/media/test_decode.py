import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import headshots.media as media
from headshots.config import DecodeConfig
from headshots.errors import ImageError
from headshots.media import decode_image, encode_clean, save_clean
from headshots.types import Reason
from tests.conftest import load_rgb


def _bytes(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.fromarray(load_rgb("obama2.jpg"))


def test_public_names():
    for name in media.__all__:
        assert hasattr(media, name)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "AVIF"])
def test_accepted_formats_decode(photo, fmt):
    d = decode_image(_bytes(photo, fmt), name=f"x.{fmt.lower()}")
    assert d.format == fmt
    assert d.pixels.shape == (photo.height, photo.width, 3) and d.pixels.dtype == np.uint8


def test_heic_decodes(photo):
    import pillow_heif

    pillow_heif.register_heif_opener()
    d = decode_image(_bytes(photo, "HEIF", quality=90), name="iphone.HEIC")
    assert d.format == "HEIF" and d.pixels.shape == (photo.height, photo.width, 3)
    assert np.abs(d.pixels.astype(int) - np.asarray(photo).astype(int)).mean() < 6


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "TGA", "PDF", "ICO"])
def test_other_formats_are_unsupported_whatever_the_name(photo, fmt):
    data = _bytes(photo.convert("RGB").resize((64, 80)), fmt)
    with pytest.raises(ImageError) as info:
        decode_image(data, name="selfie.jpg")
    assert info.value.reason is Reason.UNSUPPORTED_FORMAT
    assert "selfie.jpg" in str(info.value) and "JPEG" in info.value.fix


def test_psd_header_is_unsupported():
    with pytest.raises(ImageError) as info:
        decode_image(b"8BPS\x00\x01" + b"\x00" * 40)
    assert info.value.reason is Reason.UNSUPPORTED_FORMAT


@pytest.mark.parametrize("data", [b"", b"hello world, not an image", bytes(range(256)) * 4])
def test_garbage_is_unreadable(data):
    with pytest.raises(ImageError) as info:
        decode_image(data)
    assert info.value.reason is Reason.UNREADABLE


def test_truncated_jpeg_is_unreadable(photo):
    data = _bytes(photo, "JPEG")
    with pytest.raises(ImageError) as info:
        decode_image(data[: len(data) // 3])
    assert info.value.reason is Reason.UNREADABLE


def _png_bomb(w: int, h: int) -> bytes:
    """A tiny PNG whose header claims w x h pixels (the data is a few zero bytes)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def test_decompression_bomb_is_too_large_from_the_header():
    data = _png_bomb(30000, 30000)
    assert len(data) < 200
    with pytest.raises(ImageError) as info:
        decode_image(data, name="bomb.png")
    assert info.value.reason is Reason.TOO_LARGE
    assert "40 MP limit" in str(info.value) and "900000000" in str(info.value)


def test_file_size_limit(tmp_path, photo):
    p = tmp_path / "big.jpg"
    p.write_bytes(_bytes(photo, "JPEG"))
    with pytest.raises(ImageError) as info:
        decode_image(p, DecodeConfig(max_bytes=1000))
    assert info.value.reason is Reason.TOO_LARGE


def test_exif_orientation_applied_and_metadata_stripped(tmp_path, photo):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[2] = (52.0, 31.0, 12.0)
    p = tmp_path / "in.jpg"
    p.write_bytes(_bytes(photo, "JPEG", exif=exif.tobytes(), quality=95))
    assert Image.open(p).getexif()[0x0112] == 6
    d = decode_image(p)
    assert d.orientation == 6
    assert d.pixels.shape == (photo.width, photo.height, 3)  # rotated
    out = save_clean(d.pixels, tmp_path / "out.jpg")
    with Image.open(out) as im:
        assert len(im.getexif()) == 0
        assert "exif" not in im.info and "xmp" not in im.info and "icc_profile" not in im.info
    assert b"PhoneMaker" not in out.read_bytes()
    png = encode_clean(d.pixels)
    assert b"eXIf" not in png and b"iTXt" not in png and b"PhoneMaker" not in png


@pytest.mark.parametrize("mode", ["RGBA", "L", "CMYK", "P", "I;16", "LA"])
def test_modes_become_rgb_uint8(photo, mode):
    small = photo.resize((60, 80))
    if mode == "I;16":
        arr = (np.asarray(small.convert("L"), dtype=np.uint16) * 257)
        im = Image.fromarray(arr)
        assert im.mode == "I;16"
        fmt = "PNG"
    else:
        im = small.convert(mode)
        fmt = "JPEG" if mode in ("L", "CMYK") else "PNG"
    d = decode_image(_bytes(im, fmt))
    assert d.pixels.shape == (80, 60, 3) and d.pixels.dtype == np.uint8
    assert 20 < d.pixels.mean() < 235


def test_transparent_png_composites_on_grey():
    im = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    d = decode_image(_bytes(im, "PNG"))
    assert tuple(d.pixels[0, 0]) == (128, 128, 128)


def test_large_jpeg_decodes_reduced(photo):
    big = photo.resize((photo.width * 5, photo.height * 5))
    d = decode_image(_bytes(big, "JPEG"), DecodeConfig(decode_max_side=1600))
    assert d.original_size == big.size
    assert 1600 <= max(d.pixels.shape[:2]) < max(big.size)


def test_pixel_limit_checked_from_the_header_below_pillows_own_limit():
    with pytest.raises(ImageError) as info:
        decode_image(_png_bomb(8000, 6000), name="big.png")
    assert info.value.reason is Reason.TOO_LARGE
    assert "8000×6000 is 48 megapixels" in str(info.value)


def test_embedded_colour_profile_is_applied_before_it_is_dropped(photo):
    from PIL import ImageCms

    small = photo.resize((60, 80))
    plain = decode_image(_bytes(small, "PNG")).pixels.astype(int)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    same = decode_image(_bytes(small, "PNG", icc_profile=srgb)).pixels.astype(int)
    assert np.abs(same - plain).max() <= 2  # an sRGB profile changes nothing
    # a profile whose red and blue primaries are swapped: the colours we keep must follow it
    other = decode_image(_bytes(small, "PNG", icc_profile=_swap_primaries(srgb))).pixels
    assert np.abs(other.astype(int)[..., 0] - plain[..., 2]).mean() < np.abs(
        other.astype(int)[..., 0] - plain[..., 0]).mean()
    junk = decode_image(_bytes(small, "PNG", icc_profile=b"not a profile")).pixels.astype(int)
    assert np.abs(junk - plain).max() == 0  # a broken profile is ignored


def _swap_primaries(icc: bytes) -> bytes:
    """The same ICC profile with its rXYZ and bXYZ tag data exchanged."""
    data = bytearray(icc)
    count = struct.unpack(">I", data[128:132])[0]
    tags = {}
    for i in range(count):
        sig, off, size = struct.unpack(">4sII", data[132 + 12 * i : 144 + 12 * i])
        tags[sig] = (off, size)
    (r_off, r_size), (b_off, _) = tags[b"rXYZ"], tags[b"bXYZ"]
    red, blue = bytes(data[r_off : r_off + r_size]), bytes(data[b_off : b_off + r_size])
    data[r_off : r_off + r_size], data[b_off : b_off + r_size] = blue, red
    return bytes(data)
