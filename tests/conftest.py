"""Test-wide settings: never touch the network, one torch thread (two threads on two busy
cores ran 30x slower), real photos from tests/data."""

from __future__ import annotations

import contextlib
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import io  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
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


@pytest.fixture(autouse=True)
def _log_in_tmp(tmp_path, monkeypatch):
    """Commands run by tests log into the test's own folder, never the user's home."""
    monkeypatch.setenv("HEADSHOTS_LOG", str(tmp_path / "headshots.log"))


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


def write_crops(folder: Path, size: int) -> Path:
    """Four ``size`` px square crops of real photos (the last one mirrored) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(["obama", "obama2", "obama3", "obama"]):
        with Image.open(DATA / f"{name}.jpg") as im:
            side = min(im.size)
            im = im.convert("RGB").crop((0, 0, side, side)).resize((size, size))
            if i == 3:
                im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            im.save(folder / f"{i:03d}.png")
    return folder


@pytest.fixture(scope="session")
def crops(tmp_path_factory) -> Path:
    """Four 64 px square crops of real photos."""
    return write_crops(tmp_path_factory.mktemp("crops"), 64)

# -- variants of the real photos, made once per session ------------------------------


def jpeg(pixels: np.ndarray, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def face_box(backend, img):
    return backend.analyse(img, hands=False, mask=False).faces[0].box


@pytest.fixture(scope="session")
def variants(backend, photos) -> dict[str, np.ndarray]:
    ob, ob2, ob3 = photos["obama"], photos["obama2"], photos["obama3"]
    out: dict[str, np.ndarray] = {}
    out["blurred"] = cv2.GaussianBlur(ob, (0, 0), 3)
    out["dark"] = (ob.astype(np.float32) * 0.22).astype(np.uint8)
    out["bright"] = (255 - (255 - ob.astype(np.float32)) * 0.12).astype(np.uint8)
    box = face_box(backend, ob)
    out["cut_off_top"] = np.ascontiguousarray(ob[int(box.y0 + box.height * 0.25):])
    out["cut_off_side"] = np.ascontiguousarray(ob[:, int(box.x0 + box.width * 0.3):])
    out["cut_off_chin"] = np.ascontiguousarray(ob[: int(box.y0 + box.height * 0.85)])
    out["mirrored"] = np.ascontiguousarray(ob2[:, ::-1])
    # two people side by side, similar size
    h = min(ob3.shape[0], photos["biden"].shape[0])
    out["two_faces"] = np.hstack([ob3[:h], photos["biden"][:h]])
    # a tiny bystander in the corner does not make it a group photo
    small = cv2.resize(photos["biden"], None, fx=0.22, fy=0.22, interpolation=cv2.INTER_AREA)
    bystander = ob.copy()
    bystander[10:10 + small.shape[0], 10:10 + small.shape[1]] = small
    out["bystander"] = bystander
    # the person far away in a big frame
    tiny = cv2.resize(ob, None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    canvas = np.full((1000, 1000, 3), 200, np.uint8)
    canvas[400:400 + tiny.shape[0], 400:400 + tiny.shape[1]] = tiny
    out["far_away"] = canvas
    # sunglasses: dark lenses over both eyes
    f = backend.analyse(ob, hands=False, mask=False).faces[0]
    glasses = ob.copy()
    eye_dist = float(np.linalg.norm(f.keypoints[1] - f.keypoints[0]))
    for i in (0, 1):
        x, y = f.keypoints[i]
        cv2.ellipse(glasses, (int(x), int(y)), (int(eye_dist * 0.33), int(eye_dist * 0.22)), 0, 0,
                    360, (18, 18, 22), -1)
    cv2.line(glasses, tuple(int(v) for v in f.keypoints[0]), tuple(int(v) for v in f.keypoints[1]),
             (18, 18, 22), 3)
    out["sunglasses"] = glasses
    # the same shot resized and recompressed
    out["resaved"] = cv2.resize(ob, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    out["landscape"] = photos["astronaut"][:140, 330:]  # the shuttle, no face
    return out


# -- databases: every storage test runs on SQLite and on PostgreSQL ----------------------------

PG_ADMIN = os.environ.get("HEADSHOTS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


@contextlib.contextmanager
def fresh_pg_database(prefix: str = "hs_test_"):
    """A new, empty PostgreSQL database (its URL), dropped afterwards."""
    import secrets

    from sqlalchemy import create_engine, text

    name = prefix + secrets.token_hex(6)
    admin = create_engine(f"{PG_ADMIN}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_ADMIN}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh empty database: a SQLite file, or a new PostgreSQL database dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'headshots.db'}"
        return
    with fresh_pg_database() as url:
        yield url


# -- object store: a real SeaweedFS S3 server, one per test session ---------------------------


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    from tests._seaweed import start

    yield from start(tmp_path_factory.mktemp("seaweed"))


@pytest.fixture
def s3_prefix() -> str:
    """Each test's own corner of the shared buckets."""
    import secrets

    return f"t{secrets.token_hex(6)}/"
