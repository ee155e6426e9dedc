"""Where the bundled model files live. Found by path: importing face_recognition_models
would import pkg_resources, which new setuptools no longer ships."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from headshots.errors import BackendError

__all__ = ["dlib_model"]


def dlib_model(name: str) -> Path:
    """Path of one of the dlib model files shipped by ``face-recognition-models``."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError(
            "the package face-recognition-models is not installed",
            "install it: pip install face-recognition-models==0.3.0",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise BackendError(
            f"dlib model file {name} is missing from {path.parent}",
            "reinstall it: pip install --force-reinstall face-recognition-models==0.3.0",
        )
    return path
