"""Which files of a folder are images: everything else is named as skipped, with a word why."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from headshots.media._decode import looks_like_image

__all__ = ["FolderScan", "scan_folder"]


@dataclass(frozen=True)
class FolderScan:
    images: list[Path] = field(default_factory=list)  # sorted by name
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why), sorted

    def skipped_text(self, at_most: int | None = None) -> str:
        """``"notes.txt (not a photo), old/ (a folder ...)"`` for one line of output; with
        ``at_most``, the first few and how many more."""
        shown = self.skipped[:at_most] if at_most is not None else self.skipped
        text = ", ".join(f"{name} ({why})" for name, why in shown)
        more = len(self.skipped) - len(shown)
        return text + (f" and {more} more" if more else "")


def scan_folder(folder: Path) -> FolderScan:
    """The images directly in ``folder`` (not recursive). Hidden files (``.DS_Store``) are left
    out silently; subfolders, broken links and files that are not images are listed as skipped.
    A file that is meant as an image but cannot be read stays in: decoding reports it."""
    scan = FolderScan()
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith("."):
            continue
        if path.is_symlink() and not path.exists():
            scan.skipped.append((name, "a link to a file that no longer exists"))
        elif path.is_dir():
            scan.skipped.append((name + "/", "a folder: photos in subfolders are not looked at"))
        elif not path.is_file():
            scan.skipped.append((name, "not a regular file"))
        elif looks_like_image(name, _head(path)):
            scan.images.append(path)
        else:
            scan.skipped.append((name, "not a photo"))
    return scan


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(64)
    except OSError:  # unreadable: only its name can say whether it is meant as an image
        return b""
