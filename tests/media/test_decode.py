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


def test_decompression_bomb_is_too_large_from_the_header(monkeypatch):
    from PIL import ImageFile

    def no_decoding(self):
        raise AssertionError("a bomb must be refused before any pixel is decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    data = _png_bomb(30000, 30000)
    assert len(data) < 200
    with pytest.raises(ImageError) as info:
        decode_image(data, name="bomb.png")
    assert info.value.reason is Reason.TOO_LARGE
    assert str(info.value).startswith(
        "bomb.png: 30000×30000 is 900 megapixels, over the 50 MP limit for PNG images — resize")
    # our words, not Pillow's ("Image size (900000000 pixels) exceeds limit ... DOS attack")
    assert "900000000" not in str(info.value) and "DOS" not in str(info.value)


def _jpeg_claiming(photo: Image.Image, w: int, h: int) -> bytes:
    """A real small JPEG whose frame header (SOF0) claims w x h pixels."""
    data = bytearray(_bytes(photo.resize((64, 64)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", h, w)
    return bytes(data)


def test_jpeg_bomb_is_refused_from_the_header(photo, monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))
    with pytest.raises(ImageError) as info:
        decode_image(_jpeg_claiming(photo, 60000, 60000), name="bomb.jpg")
    assert info.value.reason is Reason.TOO_LARGE
    assert "60000×60000 is 3600 megapixels, over the 260 MP limit for JPEG" in str(info.value)


@pytest.fixture(scope="module")
def phone_48mp(photo) -> bytes:
    """A 48 MP phone-sized JPEG (6048x8064, as a 48 MP main camera shoots it) of a real photo."""
    canvas = Image.new("RGB", (6048, 8064), (96, 90, 84))
    canvas.paste(photo.resize((4200, 8064)), (900, 0))
    return _bytes(canvas, "JPEG", quality=80)


def test_48_megapixel_phone_jpeg_is_accepted_and_decoded_reduced(phone_48mp):
    d = decode_image(phone_48mp, name="IMG_0001.jpg")
    assert d.original_size == d.display_size == (6048, 8064)
    assert d.pixels.shape == (2016, 1512, 3)  # 1/4 scale: long side still >= 1600
    assert d.pixels.mean() > 40


@pytest.mark.slow
def test_200_megapixel_phone_jpeg_is_accepted(photo):
    canvas = Image.new("RGB", (16320, 12240), (96, 90, 84))
    canvas.paste(photo.resize((4170, 8000)), (6000, 2000))
    data = _bytes(canvas, "JPEG", quality=80)
    del canvas
    d = decode_image(data, name="IMG_0002.jpg")
    assert d.original_size == (16320, 12240)
    assert d.pixels.shape == (1530, 2040, 3)  # 1/8 scale


def test_a_jpeg_that_must_decode_whole_keeps_the_full_decode_limit(phone_48mp):
    # what we deliver is never draft-decoded: then 48 MP is over a 40 MP full-decode limit
    with pytest.raises(ImageError) as info:
        decode_image(phone_48mp, DecodeConfig(max_pixels=40_000_000, decode_max_side=100_000))
    assert info.value.reason is Reason.TOO_LARGE and "full decodes stop at 40 MP" in str(
        info.value)


def test_large_heic_decodes_its_embedded_preview_or_is_refused(photo):
    import pillow_heif

    pillow_heif.register_heif_opener()
    big = photo.resize((600, 1152))  # 0.69 MP: over a 0.5 MP full-decode limit below
    config = DecodeConfig(max_pixels=500_000, decode_max_side=256)
    with_preview = _bytes(big, "HEIF", quality=60, thumbnails=[400])
    d = decode_image(with_preview, config, name="IMG_0003.HEIC")
    assert d.original_size == (600, 1152) and d.pixels.shape == (400, 208, 3)
    assert np.abs(d.pixels.astype(int) - np.asarray(big.resize((208, 400))).astype(int)).mean() < 8
    with pytest.raises(ImageError) as info:
        decode_image(_bytes(big, "HEIF", quality=60), config, name="IMG_0004.HEIC")
    assert info.value.reason is Reason.TOO_LARGE and "no preview" in str(info.value)


@pytest.mark.parametrize("make", ["folder", "dangling link"])
def test_a_file_that_cannot_be_read_is_unreadable_not_a_crash(tmp_path, make):
    # permission denied is tested through the CLI (tests/cli/test_permissions.py): root reads all
    path = tmp_path / "IMG_0005.jpg"
    if make == "folder":
        path.mkdir()
    else:
        path.symlink_to(tmp_path / "gone.jpg")
    with pytest.raises(ImageError) as info:
        decode_image(path)
    assert info.value.reason is Reason.UNREADABLE
    assert str(info.value).startswith("IMG_0005.jpg: cannot be read (")


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


def test_transparent_area_becomes_a_light_backdrop_and_is_measured(photo):
    from headshots.media import BACKDROP

    im = photo.resize((60, 80)).convert("RGBA")
    alpha = np.full((80, 60), 255, np.uint8)
    alpha[:, :30] = 0  # the left half cut away
    im.putalpha(Image.fromarray(alpha))
    d = decode_image(_bytes(im, "PNG"))
    assert tuple(d.pixels[40, 5]) == BACKDROP and BACKDROP[0] > 200
    assert d.transparent_fraction == pytest.approx(0.5)
    assert decode_image(_bytes(photo.resize((60, 80)), "PNG")).transparent_fraction == 0.0


def test_large_jpeg_decodes_reduced(photo):
    big = photo.resize((photo.width * 5, photo.height * 5))
    d = decode_image(_bytes(big, "JPEG"), DecodeConfig(decode_max_side=1600))
    assert d.original_size == big.size
    assert 1600 <= max(d.pixels.shape[:2]) < max(big.size)


def test_pixel_limit_checked_from_the_header_below_pillows_own_limit():
    # 60 MP is below Pillow's own 89 MP warning: the limit is ours, from the header
    with pytest.raises(ImageError) as info:
        decode_image(_png_bomb(9000, 6700), name="big.png")
    assert info.value.reason is Reason.TOO_LARGE
    assert "9000×6700 is 60 megapixels" in str(info.value)


def test_exif_rotated_photo_reports_its_displayed_size(photo):
    exif = Image.Exif()
    exif[0x0112] = 6
    d = decode_image(_bytes(photo, "JPEG", exif=exif.tobytes()))
    assert d.original_size == (photo.width, photo.height)
    assert d.display_size == (photo.height, photo.width) == (d.width, d.height)


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
