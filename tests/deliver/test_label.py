import io

import numpy as np
import pytest
from PIL import Image

from headshots.deliver import (
    TRAINED_ALGORITHMIC_MEDIA,
    digital_source_type,
    encode_labelled,
    read_xmp,
    xmp_packet,
)
from headshots.errors import ConfigError

PX = np.random.default_rng(1).integers(0, 255, (48, 40, 3), dtype=np.uint8)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_xmp_label_written_and_read_back(fmt):
    xmp = xmp_packet(description="AI-generated <headshot> & more", creator_tool="headshots 9")
    data = encode_labelled(PX, fmt, xmp)
    assert digital_source_type(data) == TRAINED_ALGORITHMIC_MEDIA
    text = read_xmp(data)
    assert text is not None and "&lt;headshot&gt; &amp; more" in text
    assert 'xmp:CreatorTool="headshots 9"' in text
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == fmt and im.size == (40, 48)
        assert len(im.getexif()) == 0  # EXIF-free
        assert "icc_profile" not in im.info
        if fmt == "PNG":
            assert np.array_equal(np.asarray(im), PX)


def test_the_packet_is_well_formed_xml():
    import xml.etree.ElementTree as ET

    text = xmp_packet(description="x", creator_tool="t")
    root = ET.fromstring(text.split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    desc = root.find(".//{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description")
    assert desc is not None
    key = "{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}DigitalSourceType"
    assert desc.attrib[key] == TRAINED_ALGORITHMIC_MEDIA


def test_unlabelled_file_has_no_source_type_and_bad_format_is_refused():
    buf = io.BytesIO()
    Image.fromarray(PX).save(buf, "PNG")
    assert read_xmp(buf.getvalue()) is None and digital_source_type(buf.getvalue()) is None
    with pytest.raises(ConfigError, match="fmt must be PNG or JPEG"):
        encode_labelled(PX, "GIF", "x")
