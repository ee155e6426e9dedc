"""Signed C2PA manifests (c2pa-python), ES256: for a generated image a ``c2pa.created`` action
with digitalSourceType trainedAlgorithmicMedia; for a photograph we only framed (the demo's
stand-ins) ``c2pa.opened`` of that photograph, then ``c2pa.cropped`` and ``c2pa.resized``, and
no AI claim. A development certificate chain made with ``cryptography`` when no production
identity is given; and reading a manifest back."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headshots.deliver._label import TRAINED_ALGORITHMIC_MEDIA
from headshots.errors import BackendError, NotFoundError

__all__ = ["ManifestSummary", "SigningIdentity", "make_dev_identity", "read_manifest", "sign"]

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "AVIF": "image/avif",
         "HEIF": "image/heif"}


@dataclass(frozen=True)
class SigningIdentity:
    """PEM certificate chain (signer first, then issuers) and the signer's private key."""

    cert_chain_pem: bytes = field(repr=False)
    private_key_pem: bytes = field(repr=False)
    root_pem: bytes | None = field(default=None, repr=False)  # trust anchor, for verifying
    development: bool = False  # a self-made chain: validators will call it untrusted

    @classmethod
    def from_files(cls, cert_chain: Path, private_key: Path) -> SigningIdentity:
        """A production identity, e.g. from a CA on the C2PA trust list (ES256 / P-256 key)."""
        for p in (cert_chain, private_key):
            if not Path(p).is_file():
                raise NotFoundError(f"signing file {p} does not exist", "pass an existing PEM")
        return cls(Path(cert_chain).read_bytes(), Path(private_key).read_bytes())


def make_dev_identity(organisation: str = "headshots (development)") -> SigningIdentity:
    """A fresh ES256 chain: a root CA and a signer certificate it issued (c2pa refuses a
    self-signed signer). Good for tests and local runs; it proves integrity, not who signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ])

    def usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=sign, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
            encipher_only=False, decipher_only=False,
        )

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("headshots development root")
    root = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder().subject_name(name("headshots development signer"))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    root_pem = root.public_bytes(pem)
    return SigningIdentity(
        cert_chain_pem=leaf.public_bytes(pem) + root_pem,
        private_key_pem=key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        root_pem=root_pem,
        development=True,
    )


def manifest_definition(*, title: str, software_agent: str, version: str,
                        from_photograph: bool = False) -> dict[str, Any]:
    """The claim. Generated: created by a trained algorithm, by our software. From a photograph:
    that photograph (the parent ingredient) opened, cropped and resized by our software."""
    agent = {"name": software_agent, "version": version}
    if from_photograph:
        actions: list[dict[str, Any]] = [
            {"action": "c2pa.opened", "softwareAgent": agent,
             "parameters": {"ingredientIds": ["photograph"]},
             "description": "a photograph standing in for a generated headshot (a demo)"},
            {"action": "c2pa.cropped", "softwareAgent": agent},
            {"action": "c2pa.resized", "softwareAgent": agent},
        ]
    else:
        actions = [{
            "action": "c2pa.created",
            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
            "softwareAgent": agent,
            "description": "AI-generated headshot from a model fine-tuned on the person's own "
                           "selfies",
        }]
    return {
        "claim_generator_info": [agent],
        "title": title,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}],
    }


def sign(data: bytes, fmt: str, identity: SigningIdentity, *, title: str,
         software_agent: str = "headshots", thumbnail: bool = False,
         photograph: tuple[bytes, str] | None = None) -> bytes:
    """``data`` (PNG/JPEG bytes) with a signed C2PA manifest embedded. ``photograph`` (its bytes
    and format, e.g. "JPEG"): the image was framed from that photograph, not generated."""
    import c2pa

    from headshots import __version__

    try:
        context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": thumbnail}}})
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256, identity.cert_chain_pem, identity.private_key_pem, None
        ))
        builder = c2pa.Builder(
            manifest_definition(title=title, software_agent=software_agent, version=__version__,
                                from_photograph=photograph is not None),
            context=context,
        )
        if photograph is not None:  # a neutral title: the source's file name may be personal
            builder.add_ingredient(
                {"title": "source photograph", "relationship": "parentOf",
                 "label": "photograph"},
                _MIME[photograph[1].upper()], io.BytesIO(photograph[0]),
            )
        out = io.BytesIO()
        builder.sign(signer, _MIME[fmt.upper()], io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise BackendError(
            f"C2PA signing of {title} failed: {exc}",
            "check the certificate chain and key (ES256, signer first) or set sign_c2pa=False",
        ) from exc
    return out.getvalue()


@dataclass(frozen=True)
class ManifestSummary:
    """What a validator sees in a file's active C2PA manifest."""

    state: str  # "Trusted" (chain ends in a given anchor), "Valid" (intact), "Invalid"
    actions: tuple[str, ...]
    digital_source_types: tuple[str, ...]
    signer: str  # certificate common name
    issuer: str  # certificate organisation
    failures: tuple[str, ...]  # validation failure codes, e.g. assertion.dataHash.mismatch
    manifest: dict[str, Any] = field(repr=False)


def read_manifest(source: bytes | Path, fmt: str | None = None, *,
                  trust_anchors: bytes | None = None) -> ManifestSummary | None:
    """The active manifest of a PNG/JPEG, validated (against ``trust_anchors`` PEM when
    given), or None when the file carries none."""
    import c2pa

    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if fmt is None:
        fmt = "PNG" if data[:8] == b"\x89PNG\r\n\x1a\n" else "JPEG"
    settings: dict[str, Any] = {}
    if trust_anchors is not None:
        settings = {"trust": {"user_anchors": trust_anchors.decode()},
                    "verify": {"verify_trust": True}}
    try:
        reader = c2pa.Reader.try_create(_MIME[fmt.upper()], io.BytesIO(data), None,
                                        c2pa.Context.from_dict(settings))
    except c2pa.C2paError as exc:
        raise BackendError(f"reading the C2PA manifest failed: {exc}",
                           "check the file is a complete PNG or JPEG") from exc
    if reader is None:
        return None
    active = reader.get_active_manifest() or {}
    results = reader.get_validation_results() or {}
    failures = tuple(
        str(f.get("code")) for f in (results.get("activeManifest") or {}).get("failure", [])
    )
    actions: list[dict[str, Any]] = []
    for assertion in active.get("assertions", []):
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            actions.extend(assertion.get("data", {}).get("actions", []))
    info = active.get("signature_info", {})
    return ManifestSummary(
        state=str(reader.get_validation_state()),
        actions=tuple(str(a.get("action")) for a in actions),
        digital_source_types=tuple(
            str(a["digitalSourceType"]) for a in actions if "digitalSourceType" in a
        ),
        signer=str(info.get("common_name", "")),
        issuer=str(info.get("issuer", "")),
        failures=failures,
        manifest=json.loads(json.dumps(active)),
    )
