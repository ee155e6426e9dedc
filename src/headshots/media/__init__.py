"""Safe decoding and metadata-free re-encoding of images."""

from headshots.media._decode import ACCEPTED_FORMATS, DecodedImage, decode_image, sniff_format
from headshots.media._encode import downscale, encode_clean, save_clean
from headshots.media._fonts import draw_text, drawable, fit_text, font, text_font

__all__ = [
    "ACCEPTED_FORMATS",
    "DecodedImage",
    "decode_image",
    "downscale",
    "draw_text",
    "drawable",
    "encode_clean",
    "fit_text",
    "font",
    "save_clean",
    "sniff_format",
    "text_font",
]
