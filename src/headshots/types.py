"""Shared vocabulary: the reason codes every stage speaks, and small shared dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = ["Candidate", "Reason", "Verdict"]


class Reason(StrEnum):
    """Why a photo or a generated candidate was not accepted. One enum, one place."""

    # intake (safe decode)
    UNREADABLE = "unreadable"
    UNSUPPORTED_FORMAT = "unsupported_format"
    TOO_LARGE = "too_large"
    # faces
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    FACE_CUT_OFF = "face_cut_off"
    BLURRY = "blurry"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    EYES_COVERED = "eyes_covered"
    EXTREME_POSE = "extreme_pose"
    DUPLICATE = "duplicate"
    DIFFERENT_PERSON = "different_person"
    # judge only
    BAD_HANDS = "bad_hands"
    EYES_OFF = "eyes_off"
    DISTORTED_FACE = "distorted_face"
    LOW_LIKENESS = "low_likeness"
    # generation: the base model's own safety checker flagged the image
    NSFW = "nsfw"

    @property
    def explanation(self) -> str:
        return _TEXT[self][0]

    @property
    def fix(self) -> str:
        return _TEXT[self][1]


_TEXT: dict[Reason, tuple[str, str]] = {
    Reason.UNREADABLE: ("the file is not a readable image", "export it again as JPEG or PNG"),
    Reason.UNSUPPORTED_FORMAT: (
        "the file type is not supported",
        "use JPEG, PNG, WebP, HEIC/HEIF or AVIF",
    ),
    Reason.TOO_LARGE: (
        "the image has too many pixels to process safely",
        "resize it (24 megapixels is plenty), or export it as JPEG",
    ),
    Reason.NO_FACE: ("no face was found", "use a photo where your face is clearly visible"),
    Reason.MULTIPLE_FACES: (
        "more than one face is in the photo",
        "crop the photo so only you are in it",
    ),
    Reason.FACE_TOO_SMALL: (
        "the face is too small in the frame",
        "take the photo closer, so your face fills more of it",
    ),
    Reason.FACE_CUT_OFF: (
        "the face is cut off by the edge of the photo",
        "keep your whole head, forehead to chin, inside the frame",
    ),
    Reason.BLURRY: ("the face is blurry", "hold still and focus on your face"),
    Reason.TOO_DARK: ("the face is too dark", "face a window or a lamp"),
    Reason.TOO_BRIGHT: (
        "the face is over-exposed",
        "avoid direct sun or flash on your face",
    ),
    Reason.EYES_COVERED: (
        "the eyes are hidden (sunglasses, hair or a hand)",
        "take one with your eyes clearly visible",
    ),
    Reason.EXTREME_POSE: (
        "the head is turned or tilted too far",
        "turn at most three-quarters away from the camera",
    ),
    Reason.DUPLICATE: (
        "almost the same as another image of the set",
        "replace it with one in a different pose, place or light",
    ),
    Reason.DIFFERENT_PERSON: (
        "this looks like a different person from the rest of the set",
        "remove photos of anyone else",
    ),
    Reason.BAD_HANDS: ("the hands look malformed or are in the way", "none: generated, dropped"),
    Reason.EYES_OFF: ("the eyes look misaligned or mismatched", "none: generated, dropped"),
    Reason.DISTORTED_FACE: ("the face proportions look wrong", "none: generated, dropped"),
    Reason.LOW_LIKENESS: (
        "it does not look enough like you",
        "none: generated, dropped (if most are, add more varied selfies)",
    ),
    Reason.NSFW: (
        "the model's safety checker flagged the image as not safe for work",
        "none: generated, dropped (if many are, check the style's prompt and negative prompt)",
    ),
}


@dataclass(frozen=True)
class Verdict:
    """Accepted, or not with reasons; ``metrics`` holds the measured numbers behind it."""

    accepted: bool
    reasons: tuple[Reason, ...] = ()
    metrics: dict[str, float] | None = None


@dataclass(frozen=True)
class Candidate:
    """One generated (or supplied) image and how it was made, enough to make it again."""

    id: str
    path: Path
    style: str = "unknown"
    seed: int | None = None
    prompt: str = ""
    negative_prompt: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
