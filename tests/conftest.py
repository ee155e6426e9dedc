"""Test-wide settings: never touch the network, one torch thread (two threads on two busy
cores ran 30x slower), real photos from tests/data."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

DATA = Path(__file__).parent / "data"


def pytest_configure(config: pytest.Config) -> None:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.set_num_threads(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_cuda = False
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


def load_rgb(name: str) -> np.ndarray:
    """A test photo as an RGB uint8 array."""
    with Image.open(DATA / name) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="session")
def backend():
    """The real face backend, loaded once for the whole test session."""
    from headshots.faces import MediapipeDlibBackend

    with MediapipeDlibBackend() as b:
        yield b


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    names = ["obama", "obama2", "obama3", "biden", "astronaut"]
    return {n: load_rgb(f"{n}.jpg") for n in names}



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
