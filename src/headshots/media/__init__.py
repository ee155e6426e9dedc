"""Safe decoding and metadata-free re-encoding of images."""

from headshots.media._decode import ACCEPTED_FORMATS, DecodedImage, decode_image, sniff_format
from headshots.media._encode import downscale, encode_clean, save_clean
from headshots.media._fonts import font

__all__ = [
    "ACCEPTED_FORMATS",
    "DecodedImage",
    "decode_image",
    "downscale",
    "encode_clean",
    "font",
    "save_clean",
    "sniff_format",
]
