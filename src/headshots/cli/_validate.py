"""Checks every command runs on its arguments before any slow work (a model load, the selfie
check, training): each failure is one ``InputError`` naming the option, the problem and the fix.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from headshots.errors import BaseModelError, ConfigError, InputError, NotFoundError

__all__ = [
    "base_model", "device", "image_folder", "lora_folder", "output_dir", "output_file", "styles",
    "train_config", "trained_identity", "identity",
]


def _nearest_existing(path: Path) -> Path:
    here = path.absolute()
    while not here.exists() and here != here.parent:
        here = here.parent
    return here


def _writable(folder: Path, option: str, path: Path) -> None:
    """Write and remove a probe file: the only test that tells the truth for every user (root
    included), file system (read-only mounts) and platform."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".headshots-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"{option} {path}: cannot write in {folder} ({exc.strerror or exc})",
            "choose a folder you can write to") from None


def _creatable(folder: Path, option: str, shown: Path) -> None:
    """``folder`` can be made: its nearest existing ancestor is a folder we can write in.
    Messages name ``shown``, the path the person typed."""
    anchor = _nearest_existing(folder)
    if not anchor.is_dir():
        raise ConfigError(f"{option} {shown} cannot be created: {anchor} is a file, not a folder",
                          f"choose a place that is not inside {anchor}")
    _writable(anchor, option, shown)


def output_dir(path: Path, option: str, subdirs: tuple[Path, ...] = ()) -> None:
    """``path`` is (or can become) a folder we can write in, and none of ``subdirs`` inside it
    is a file in the way."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} is a file, not a folder",
                          "pass a folder (it is created when missing)")
    if path.is_dir():
        _writable(path, option, path)
    else:
        _creatable(path, option, path)
    for sub in subdirs:
        if sub.exists() and not sub.is_dir():
            raise ConfigError(f"{option} {path}: {sub} is a file where a folder goes",
                              "move that file away, or choose another folder")


def output_file(path: Path, option: str, example: str) -> None:
    """``path`` names a file we can write (it need not exist yet)."""
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a folder, not a file",
                          f"name a file, e.g. {path / example}")
    if path.exists():
        try:
            with path.open("ab"):  # opening to append changes nothing
                pass
        except OSError as exc:
            raise ConfigError(f"{option} {path} cannot be written ({exc.strerror or exc})",
                              "choose another file, or one you may write") from None
    else:
        _creatable(path.parent, option, path)


def image_folder(folder: Path, *, what: str, hint: str) -> Any:
    """The ``FolderScan`` of a folder that must hold images. ``what`` names the folder in the
    message ("folder", "candidates folder"), ``hint`` says what to pass instead."""
    from headshots.media import scan_folder

    if not folder.exists():
        raise NotFoundError(f"{what} {folder} does not exist", hint)
    if not folder.is_dir():
        raise InputError(f"{what} {folder} is not a folder", hint)
    try:
        scan = scan_folder(folder)
    except OSError as exc:
        raise InputError(f"{what} {folder} cannot be read ({exc.strerror or exc})",
                         "check its permissions") from None
    if not scan.images:
        found = f" (only {scan.skipped_text(at_most=3)})" if scan.skipped else ""
        if (folder / "crops").is_dir():  # a run folder: its photos are in crops/
            hint = f"pass {folder / 'crops'}, the run's prepared photos"
        raise InputError(f"{what} {folder} holds no photos{found}", hint)
    return scan


def base_model(source: str) -> None:
    """The cheap part of loading a base model: a local folder must exist and be a diffusers
    folder; anything else must look like a hub id (org/name)."""
    path = Path(source)
    if path.exists():
        if not (path / "model_index.json").is_file():
            raise BaseModelError(f"base model {source} has no model_index.json",
                                 "pass a diffusers-format folder (save_pretrained layout)")
    elif source.count("/") != 1 or source.startswith((".", "/", "~")):
        raise BaseModelError(
            f"base model {source} does not exist",
            "pass a local diffusers folder, or a hub id like org/name on a machine with internet")


def device(name: str) -> None:
    """A device name we know, and CUDA present when it is asked for (whether a real-size model
    may train on the CPU is decided once the model is known)."""
    from headshots.finetune import resolve_device

    resolve_device(name, 0, 512)


def lora_folder(path: Path, option: str = "--lora") -> Path:
    """The folder that holds the trained LoRA, from a run folder, its train/ folder or the
    LoRA file itself."""
    from headshots.store.paths import RunPaths

    name = RunPaths(path).lora.name
    fix = "pass the run folder of `headshots train` (its --out)"
    if not path.exists():
        raise NotFoundError(f"{option} {path} does not exist", fix)
    if path.is_file():
        if path.name == name:
            return path.parent
        raise InputError(f"{option} {path} is not a LoRA from `headshots train`", fix)
    for folder in (path / "train", path):
        if (folder / name).is_file():
            return folder
    raise NotFoundError(
        f"{option} {path} holds no trained LoRA (no {RunPaths(path).lora})",
        f"finish training into it first (`headshots train ... --out {path}`), or {fix}")


def trained_identity(lora_dir: Path) -> tuple[str, str] | None:
    """(token, class word) the LoRA was trained with, from ``train_report.json`` next to it;
    None for a LoRA without a readable report."""
    try:
        config = json.loads((lora_dir / "train_report.json").read_text())["config"]
        return str(config["identity_token"]), str(config["class_word"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def identity(lora_dir: Path | None, class_word: str | None, token: str | None
             ) -> tuple[str, str]:
    """(token, class word) for the prompts: the training run's. An option that disagrees with
    it is an error: the LoRA only knows the words it was trained on, so other words would
    quietly make pictures of someone else — after all the generating time was spent."""
    trained = trained_identity(lora_dir) if lora_dir is not None else None
    if lora_dir is None or trained is None:
        return token or "sks", class_word or "person"
    for option, given, was in (("--token", token, trained[0]),
                               ("--class-word", class_word, trained[1])):
        if given is not None and given != was:
            raise ConfigError(
                f"{option} {given!r} differs from the training run's {was!r} "
                f"({lora_dir / 'train_report.json'})",
                f"leave {option} out to use {was!r}, or train again with {option} {given}")
    return trained


_TRAIN_OPTIONS = {
    "steps": "--train-steps", "learning_rate": "--learning-rate", "rank": "--rank",
    "alpha": "--alpha", "checkpoint_every": "--checkpoint-every", "class_word": "--class-word",
    "identity_token": "--token", "batch_size": "--batch-size", "seed": "--seed",
    "mixed_precision": "--mixed-precision", "snr_gamma": "--snr-gamma",
    "resolution": "--resolution",
}


def train_config(command: str, **fields: Any) -> Any:
    """A ``TrainConfig`` from the command's options; a bad value names the option as typed."""
    from pydantic import ValidationError

    from headshots.finetune import TrainConfig

    try:
        return TrainConfig(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else ""
        option = _TRAIN_OPTIONS.get(field, "--" + field.replace("_", "-"))
        raise ConfigError(f"{option} {err.get('input')!r}: {err['msg'][:1].lower()}"
                          f"{err['msg'][1:]}", f"see `headshots {command} --help`") from None


def styles(style_ids: str, prompt: str | None, styles_file: Path | None) -> list[Any]:
    """The styles to generate, or the custom look of ``prompt``."""
    from headshots.generate import custom_style, load_styles, pick_styles

    catalog = load_styles(styles_file)
    return [custom_style(prompt)] if prompt is not None else pick_styles(catalog, style_ids)

