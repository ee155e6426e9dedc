"""Consent before collection: a versioned text (what is processed, why, what is kept, for how
long, the keep-my-model opt-in) and the published retention schedule it refers to.

A change to the text (or to the schedule it quotes) is a new version; a consent record always
names the version the person agreed to and the hash of the exact text they saw.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from headshots.config import RetentionSchedule

__all__ = ["CONSENT_VERSION", "ConsentChoice", "consent_text", "consent_sha256",
           "retention_text"]

CONSENT_VERSION = "2026-11-24"


@dataclass(frozen=True)
class ConsentChoice:
    """What the person agreed to, in their own choices."""

    version: str
    keep_model: bool = False
    subject: str = "local-user"  # an account id on the service; never a name or e-mail
    channel: str = "cli"


def _days(n: int) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


def retention_text(schedule: RetentionSchedule | None = None) -> str:
    s = schedule or RetentionSchedule()
    years = s.kept_model_max_days / 365
    kept = f"{years:g} years" if s.kept_model_max_days % 365 == 0 else _days(
        s.kept_model_max_days)
    return "\n".join([
        "Retention schedule (what is kept, and when it is deleted):",
        f"- Your selfies, the training crops made from them and the face measurements "
        f"(identity embeddings): deleted {_days(s.inputs_days)} after your headshots are "
        f"delivered, or {_days(s.inputs_days)} after your last activity on an order that "
        "never finished.",
        f"- Your fine-tuned model (the LoRA and its checkpoints): deleted "
        f"{_days(s.model_days)} after delivery, unless you choose to keep it. A kept model "
        f"stays until you delete it, and at most {kept} after your last activity.",
        f"- Generated candidates and delivered headshots: deleted {_days(s.results_days)} "
        "after delivery. Download what you want to keep.",
        "- You can delete everything now at any time; deletion also destroys the order's "
        "encryption key, so no copy anywhere can be read again, and you get a receipt that "
        "lists what was deleted (no images, names or face data in it).",
        "- Kept after deletion: this consent record (the version you agreed to, when, your "
        "choices) and the deletion receipt.",
    ])


def consent_text(schedule: RetentionSchedule | None = None) -> str:
    return "\n\n".join([
        f"Consent to process your photos (version {CONSENT_VERSION})",
        "To make your headshots, headshots processes biometric data: it detects your face in "
        "each photo, measures it, and computes identity embeddings (face geometry numbers) to "
        "check that every photo shows you and that the generated images look like you. It "
        "fine-tunes an image model on your photos; that model can draw your likeness.",
        "Purpose: only to make, check and deliver your headshots. Your photos, face data and "
        "model are never used for anything else, never sold and never shared. They are "
        "stored encrypted, with a key of their own for your order.",
        "Original uploads are not stored: each photo is re-encoded without its metadata "
        "(location, camera, time) before it is kept.",
        retention_text(schedule),
        "Keeping your model is optional (off unless you turn it on): it lets you order more "
        "headshots later without uploading selfies again.",
        "You can withdraw consent at any time by deleting the order.",
    ])


def consent_sha256(schedule: RetentionSchedule | None = None) -> str:
    return hashlib.sha256(consent_text(schedule).encode()).hexdigest()
