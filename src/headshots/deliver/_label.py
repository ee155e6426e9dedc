"""The in-file AI label: an XMP packet with IPTC ``DigitalSourceType`` =
trainedAlgorithmicMedia, written into metadata-free PNG/JPEG bytes, and read back."""

from __future__ import annotations

import io
import re
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from PIL import Image, PngImagePlugin

from headshots.errors import ConfigError

__all__ = [
    "TRAINED_ALGORITHMIC_MEDIA",
    "digital_source_type",
    "encode_labelled",
    "read_xmp",
    "xmp_packet",
]

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
_PNG_XMP_KEY = "XML:com.adobe.xmp"  # the iTXt keyword the XMP spec gives for PNG
_DST = re.compile(r"Iptc4xmpExt:DigitalSourceType\s*=\s*\"([^\"]*)\"")


def xmp_packet(*, description: str, creator_tool: str,
               digital_source_type: str | None = TRAINED_ALGORITHMIC_MEDIA) -> str:
    """An XMP packet labelling the image as made by a trained algorithm (IPTC 2023 vocabulary);
    ``digital_source_type=None`` makes no claim about how the image was made."""
    source = ("" if digital_source_type is None
              else f"    Iptc4xmpExt:DigitalSourceType={quoteattr(digital_source_type)}\n")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        f"{source}"
        f"    xmp:CreatorTool={quoteattr(creator_tool)}>\n"
        "   <dc:description><rdf:Alt>"
        f'<rdf:li xml:lang="x-default">{escape(description)}</rdf:li>'
        "</rdf:Alt></dc:description>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


def encode_labelled(pixels: np.ndarray, fmt: str, xmp: str, *, quality: int = 95) -> bytes:
    """PNG or JPEG bytes from pixels alone (no EXIF, GPS, ICC) plus the XMP packet."""
    fmt = fmt.upper()
    im = Image.fromarray(np.ascontiguousarray(pixels), "RGB")
    buf = io.BytesIO()
    if fmt == "JPEG":
        im.save(buf, "JPEG", quality=quality, optimize=True, xmp=xmp.encode("utf-8"))
    elif fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt(_PNG_XMP_KEY, xmp)
        im.save(buf, "PNG", pnginfo=info, compress_level=6)
    else:
        raise ConfigError(f"fmt must be PNG or JPEG, got {fmt!r}", "pass fmt='JPEG'")
    return buf.getvalue()


def read_xmp(source: bytes | Path) -> str | None:
    """The XMP packet embedded in a PNG or JPEG, or None."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    with Image.open(io.BytesIO(data)) as im:
        raw = im.info.get(_PNG_XMP_KEY) or im.info.get("xmp")
    if raw is None:
        return None
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def digital_source_type(source: bytes | Path) -> str | None:
    """The IPTC DigitalSourceType URI in the file's XMP (attribute form, as we write it)."""
    xmp = read_xmp(source)
    found = _DST.search(xmp) if xmp else None
    return found.group(1) if found else None
