"""The signed C2PA manifest, read back with c2pa.Reader (the real SDK)."""

import numpy as np
import pytest

from headshots.deliver import (
    TRAINED_ALGORITHMIC_MEDIA,
    SigningIdentity,
    digital_source_type,
    encode_labelled,
    read_manifest,
    sign,
    xmp_packet,
)
from headshots.errors import BackendError, NotFoundError

PX = np.random.default_rng(2).integers(0, 255, (64, 64, 3), dtype=np.uint8)


@pytest.fixture(scope="module", params=["JPEG", "PNG"])
def signed(request, identity) -> tuple[str, bytes]:
    data = encode_labelled(PX, request.param, xmp_packet(description="d", creator_tool="t"))
    return request.param, sign(data, request.param, identity, title="a.img")


def test_manifest_says_created_by_a_trained_algorithm(signed, identity):
    fmt, data = signed
    m = read_manifest(data)
    assert m is not None
    assert m.actions == ("c2pa.created",)
    assert m.digital_source_types == (TRAINED_ALGORITHMIC_MEDIA,)
    assert m.signer == "headshots development signer"
    # intact, but the development root is not on anyone's trust list
    assert m.state == "Valid" and m.failures == ("signingCredential.untrusted",)
    assert m.manifest["claim_generator_info"][0]["name"] == "headshots"
    # the XMP label survives embedding the manifest
    assert digital_source_type(data) == TRAINED_ALGORITHMIC_MEDIA


def test_trusted_with_the_dev_root_as_anchor(signed, identity):
    _, data = signed
    m = read_manifest(data, trust_anchors=identity.root_pem)
    assert m is not None and m.state == "Trusted" and m.failures == ()


def test_tampered_pixels_invalidate_the_manifest(signed):
    fmt, data = signed
    tampered = bytearray(data)
    tampered[-100] ^= 0xFF  # inside the image data, after the manifest
    m = read_manifest(bytes(tampered), fmt)
    assert m is not None and m.state == "Invalid"
    assert "assertion.dataHash.mismatch" in m.failures


def test_unsigned_file_has_no_manifest():
    assert read_manifest(encode_labelled(PX, "PNG", "x")) is None


def test_a_broken_identity_is_a_backend_error(identity):
    bad = SigningIdentity(identity.root_pem or b"", identity.private_key_pem)  # CA as signer
    with pytest.raises(BackendError, match="C2PA signing"):
        sign(encode_labelled(PX, "PNG", "x"), "PNG", bad, title="b.png")


def test_identity_from_files(tmp_path, identity):
    (tmp_path / "c.pem").write_bytes(identity.cert_chain_pem)
    (tmp_path / "k.pem").write_bytes(identity.private_key_pem)
    loaded = SigningIdentity.from_files(tmp_path / "c.pem", tmp_path / "k.pem")
    assert not loaded.development
    data = sign(encode_labelled(PX, "JPEG", "x"), "JPEG", loaded, title="c.jpg")
    assert read_manifest(data, trust_anchors=identity.root_pem).state == "Trusted"
    with pytest.raises(NotFoundError, match="does not exist"):
        SigningIdentity.from_files(tmp_path / "nope.pem", tmp_path / "k.pem")
