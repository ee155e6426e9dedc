"""Delivery: framed headshots (1:1 and 4:5) labelled as AI-generated in XMP and a signed C2PA
manifest (or, for the demo's stand-in photographs, labelled as such), a contact sheet, a
rejection chart, report.json and a usage note."""

from headshots.deliver._c2pa import (
    ManifestSummary,
    SigningIdentity,
    make_dev_identity,
    read_manifest,
    sign,
)
from headshots.deliver._config import DeliverConfig, Framing, Inputs
from headshots.deliver._deliver import DeliveryResult, ProgressFn, deliver
from headshots.deliver._frame import Framed, frame
from headshots.deliver._label import (
    TRAINED_ALGORITHMIC_MEDIA,
    digital_source_type,
    encode_labelled,
    read_xmp,
    xmp_packet,
)
from headshots.deliver._report import Deliverable
from headshots.deliver._sheet import (
    rejection_counts,
    render_contact_sheet,
    render_rejection_chart,
)
from headshots.deliver._types import CandidateRecord, LikenessCalibration, Selection
from headshots.deliver._usage import usage_note

__all__ = [
    "TRAINED_ALGORITHMIC_MEDIA",
    "CandidateRecord",
    "DeliverConfig",
    "Deliverable",
    "DeliveryResult",
    "Framed",
    "Framing",
    "Inputs",
    "LikenessCalibration",
    "ManifestSummary",
    "ProgressFn",
    "Selection",
    "SigningIdentity",
    "deliver",
    "digital_source_type",
    "encode_labelled",
    "frame",
    "make_dev_identity",
    "read_manifest",
    "read_xmp",
    "rejection_counts",
    "render_contact_sheet",
    "render_rejection_chart",
    "sign",
    "usage_note",
    "xmp_packet",
]
