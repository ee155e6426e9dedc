"""The delivery stage: frame each selected headshot in every standard shape, label it (as
AI-generated, or as a demo's stand-in photograph: XMP + signed C2PA), and write the contact
sheet, rejection chart, report and usage note."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from headshots.config import DecodeConfig
from headshots.deliver._c2pa import SigningIdentity, make_dev_identity, sign
from headshots.deliver._config import DeliverConfig, Framing, Inputs
from headshots.deliver._frame import Framed, frame
from headshots.deliver._label import TRAINED_ALGORITHMIC_MEDIA, encode_labelled, xmp_packet
from headshots.deliver._report import Deliverable, build_report, write_report
from headshots.deliver._sheet import render_contact_sheet, render_rejection_chart
from headshots.deliver._types import CandidateRecord, Selection
from headshots.deliver._usage import usage_note
from headshots.errors import ImageError, NotFoundError
from headshots.faces import FaceBackend
from headshots.media import decode_image, sniff_format

__all__ = ["DeliveryResult", "ProgressFn", "deliver"]

# progress(done, total, what) after each selected headshot
ProgressFn = Callable[[int, int, str], None]
_FULL_SIZE = DecodeConfig(decode_max_side=100_000)  # never draft-decode what we deliver
_DESCRIPTION = {
    Inputs.GENERATED: "AI-generated headshot (trained algorithmic media); not a photograph.",
    Inputs.STAND_IN: "Demo stand-in: a real photograph, framed by headshots; not AI-generated.",
}


@dataclass(frozen=True)
class DeliveryResult:
    out_dir: Path
    files: tuple[Deliverable, ...]
    contact_sheet: Path
    rejection_chart: Path
    report: Path
    usage: Path
    trust_anchor: Path | None  # dev root certificate, when signed with a development identity


def _slug(text: str) -> str:
    """Lower-case ASCII letters, digits and dashes (accents dropped, other scripts removed)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40].strip("-")


def _name(c: CandidateRecord, inputs: Inputs) -> str:
    """``NN-style-seed``; without a known style just the rank (the source's own file name may be
    personal, and the file may be shared: report.json maps ranks to sources)."""
    parts = [f"{c.rank:02d}"]
    if inputs is Inputs.STAND_IN:
        parts.append("stand-in")
    if c.style != "unknown" and _slug(c.style):
        parts.append(_slug(c.style))
    if c.seed is not None:
        parts.append(str(c.seed))
    return "-".join(parts)


def deliver(
    selection: Selection, out_dir: Path, config: DeliverConfig | None = None, *,
    backend: FaceBackend | None = None, identity: SigningIdentity | None = None,
    progress: ProgressFn | None = None,
) -> DeliveryResult:
    """Deliver ``selection.selected`` into ``out_dir`` (e.g. ``RunPaths(run).delivery``).

    ``backend`` finds the face to frame on (default: the real mediapipe backend; only
    ``analyse`` is used). ``identity`` signs the C2PA manifests; without one a development
    chain is made and its root written as ``dev-root-ca.pem`` so the files can be verified.
    """
    config = config or DeliverConfig()
    chosen = selection.selected
    missing = [str(c.file) for c in chosen if c.file is None or not Path(c.file).is_file()]
    if missing:
        raise NotFoundError(f"selected candidate files do not exist: {', '.join(missing[:3])}",
                            "pass the candidates folder the judge read")
    if backend is None:
        from headshots.faces import default_backend

        backend = default_backend()
    if config.sign_c2pa and identity is None:
        identity = make_dev_identity()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fmt = "JPEG" if config.image_format == "jpeg" else "PNG"
    ext = "jpg" if fmt == "JPEG" else "png"
    stand_in = config.inputs is Inputs.STAND_IN
    xmp = xmp_packet(description=_DESCRIPTION[config.inputs], creator_tool=config.software_agent,
                     digital_source_type=None if stand_in else TRAINED_ALGORITHMIC_MEDIA)

    files: list[Deliverable] = []
    sheet_items: list[tuple[CandidateRecord, np.ndarray]] = []
    for i, cand in enumerate(chosen):
        assert cand.file is not None  # checked above
        try:
            image = decode_image(Path(cand.file), _FULL_SIZE).pixels
        except ImageError as exc:
            raise ImageError(exc.reason,
                             f"selected candidate {cand.file} cannot be read: {exc.problem}",
                             "re-run generate for it or drop it from the selection") from exc
        faces = backend.analyse(image, hands=False, mask=False).faces
        face = faces[0] if faces else None
        photograph = _source(cand.file) if stand_in else None
        for framing in config.framings:
            framed = frame(image, face, framing, config)
            path = out_dir / framing.folder / f"{_name(cand, config.inputs)}.{ext}"
            files.append(_write(framed, cand, path, fmt, xmp, config, identity, photograph))
            if framing is config.framings[0]:
                sheet_items.append((cand, framed.pixels))
        if progress is not None:
            progress(i + 1, len(chosen), cand.label)

    n, total = len(chosen), len(selection.candidates)
    if stand_in:
        title = f"{n} demo stand-in{'' if n == 1 else 's'} of {total} candidates"
        subtitle = "Real photographs standing in for generated headshots — not AI-generated"
    else:
        title = f"{n} selected headshot{'' if n == 1 else 's'} of {total} candidates"
        subtitle = "AI-generated — keep the label when you share them"
    sheet = render_contact_sheet(
        sheet_items, out_dir / "contact_sheet.png", columns=config.sheet_columns,
        cell=config.sheet_cell, title=title, subtitle=subtitle, stand_in=stand_in,
    )
    chart = render_rejection_chart(selection, out_dir / "rejections.png")
    anchor = None
    if identity is not None and identity.development and identity.root_pem:
        anchor = out_dir / "dev-root-ca.pem"
        anchor.write_bytes(identity.root_pem)
    usage = out_dir / "USAGE.md"
    usage.write_text(usage_note(signed=identity is not None,
                                development_cert=bool(identity and identity.development),
                                image_format=config.image_format,
                                framings=config.framings, inputs=config.inputs),
                     encoding="utf-8")
    signed = [d for d in files if d.c2pa_signed]
    labels = {
        "inputs": config.inputs.value,
        "ai_generated": not stand_in,
        "xmp_digital_source_type": None if stand_in else TRAINED_ALGORITHMIC_MEDIA,
        "c2pa_signed": bool(signed),
        "c2pa_actions": (None if not signed else ["c2pa.opened", "c2pa.cropped", "c2pa.resized"]
                         if stand_in else ["c2pa.created"]),
        "c2pa_development_certificate": bool(identity and identity.development),
    }
    named = {"contact_sheet": sheet.name, "rejection_chart": chart.name, "usage": usage.name}
    if anchor is not None:
        named["trust_anchor"] = anchor.name
    report = build_report(selection, files, out_dir, labels=labels, files=named)
    report["config"] = config.model_dump(mode="json")
    path = write_report(report, out_dir / "report.json")
    return DeliveryResult(out_dir, tuple(files), sheet, chart, path, usage, anchor)


def _source(file: Path) -> tuple[bytes, str] | None:
    """A stand-in's source photograph and its format, for the C2PA ingredient."""
    data = Path(file).read_bytes()
    fmt = sniff_format(data[:32])
    return None if fmt is None else (data, fmt)


def _write(framed: Framed, cand: CandidateRecord, path: Path, fmt: str, xmp: str,
           config: DeliverConfig, identity: SigningIdentity | None,
           photograph: tuple[bytes, str] | None) -> Deliverable:
    data = encode_labelled(framed.pixels, fmt, xmp, quality=config.jpeg_quality)
    # a stand-in whose source cannot be an ingredient gets no manifest rather than a false one
    signing = identity is not None and (config.inputs is Inputs.GENERATED or photograph is not None)
    if signing:
        assert identity is not None
        data = sign(data, fmt, identity, title=path.name, software_agent=config.software_agent,
                    thumbnail=config.c2pa_thumbnail, photograph=photograph)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    w, h = framed.size
    assert cand.file is not None
    return Deliverable(
        source=cand.file, rank=cand.rank or 0, file=path,
        framing=Framing(framed.framing).value, width=w, height=h,
        method=framed.method, upscale=framed.upscale,
        upscale_flagged=framed.upscale > config.upscale_warning, c2pa_signed=signing,
    )
