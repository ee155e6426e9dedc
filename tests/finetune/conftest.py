from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import DATA


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> dict[str, Path]:
    from headshots.testing.tiny_models import build_tiny_pipeline

    root = tmp_path_factory.mktemp("tiny")
    return {arch: build_tiny_pipeline(root / arch, arch) for arch in ("sd15", "sdxl")}


@pytest.fixture(scope="session")
def crops(tmp_path_factory) -> Path:
    """Four 64 px square crops of real photos."""
    folder = tmp_path_factory.mktemp("crops")
    for i, name in enumerate(["obama", "obama2", "obama3", "obama"]):
        with Image.open(DATA / f"{name}.jpg") as im:
            side = min(im.size)
            im = im.convert("RGB").crop((0, 0, side, side)).resize((64, 64))
            if i == 3:
                im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            im.save(folder / f"{i:03d}.png")
    return folder
