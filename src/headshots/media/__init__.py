"""Safe decoding and metadata-free re-encoding of images."""

from headshots.media._decode import (
    ACCEPTED_FORMATS,
    BACKDROP,
    IMAGE_SUFFIXES,
    DecodedImage,
    decode_image,
    looks_like_image,
    sniff_format,
)
from headshots.media._encode import downscale, encode_clean, save_clean
from headshots.media._folder import FolderScan, scan_folder
from headshots.media._fonts import draw_text, drawable, fit_text, font, text_font

__all__ = [
    "ACCEPTED_FORMATS",
    "BACKDROP",
    "DecodedImage",
    "FolderScan",
    "IMAGE_SUFFIXES",
    "decode_image",
    "downscale",
    "draw_text",
    "drawable",
    "encode_clean",
    "fit_text",
    "font",
    "looks_like_image",
    "save_clean",
    "scan_folder",
    "sniff_format",
    "text_font",
]
