"""The real face backend: mediapipe 0.10.21 (detection, mesh with iris, hands, person mask)
plus dlib's 5-point landmarks and ResNet identity embedding.

Models load lazily, once per process, and are reused; mediapipe graphs are not thread-safe,
so one lock serialises calls. Large images are analysed on a downscaled copy (the models'
inputs are 128-256 px anyway) and coordinates are mapped back to the caller's pixels.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import cv2
import numpy as np

from headshots.errors import BackendError, ConfigError
from headshots.faces._models import dlib_model
from headshots.faces._pose import keypoints_from_mesh, pose_from_mesh
from headshots.faces._protocol import Analysis, Box, Face, Hand

__all__ = ["MediapipeDlibBackend", "default_backend", "check_image"]

_MESH_INPUT = 256  # the mesh model's input is 192 px: a 256 px crop around the face loses nothing


def check_image(image: Any, name: str = "image") -> np.ndarray:
    """Refuse anything but an (H, W, 3) uint8 array, naming what was given."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", type(image).__name__)
        raise ConfigError(
            f"{name} must be an RGB array of shape (H, W, 3), got {shape}",
            "decode it with headshots.media.decode_image (it returns RGB uint8)",
        )
    if image.dtype != np.uint8:
        raise ConfigError(
            f"{name} must have dtype uint8, got {image.dtype}", "convert it to 8-bit RGB first"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ConfigError(f"{name} is empty: shape {image.shape}", "pass an image with pixels")
    return np.ascontiguousarray(image)


class MediapipeDlibBackend:
    """Implements ``FaceBackend`` with mediapipe and dlib; see the module docstring."""

    def __init__(
        self, *, max_side: int = 960, min_detection_score: float = 0.5, max_faces: int = 4
    ) -> None:
        if max_side < 128:
            raise ConfigError(f"max_side must be >= 128, got {max_side}", "use 960 (default)")
        self.max_side = max_side
        self.min_detection_score = min_detection_score
        self.max_faces = max_faces
        self._lock = threading.RLock()
        self._models: dict[str, Any] = {}

    # -- model loading -------------------------------------------------------------------
    def _model(self, name: str) -> Any:
        model = self._models.get(name)
        if model is None:
            model = self._models[name] = self._load(name)
        return model

    def _load(self, name: str) -> Any:
        try:
            import mediapipe as mp
        except ImportError as exc:  # pragma: no cover - a broken install
            raise BackendError(
                f"mediapipe cannot be imported ({exc})", "install mediapipe==0.10.21"
            ) from exc
        sol = mp.solutions
        if name == "detect":
            return sol.face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=min(self.min_detection_score, 0.3)
            )
        if name == "mesh":
            return sol.face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                min_detection_confidence=0.3,
            )
        if name == "hands":
            return sol.hands.Hands(
                static_image_mode=True, max_num_hands=4, min_detection_confidence=0.5
            )
        if name == "mask":
            return sol.selfie_segmentation.SelfieSegmentation(model_selection=0)
        import dlib

        if name == "shape5":
            return dlib.shape_predictor(str(dlib_model("shape_predictor_5_face_landmarks.dat")))
        if name == "resnet":
            return dlib.face_recognition_model_v1(
                str(dlib_model("dlib_face_recognition_resnet_model_v1.dat"))
            )
        raise KeyError(name)

    def _process(self, name: str, image: np.ndarray) -> Any:
        """Run one mediapipe graph. A graph that raised stays broken ("Graph has errors") for
        every later call, so it is dropped and reloads on next use."""
        try:
            return self._model(name).process(image)
        except RuntimeError as exc:
            broken = self._models.pop(name, None)
            if broken is not None:
                with contextlib.suppress(Exception):  # already broken: closing is best effort
                    broken.close()
            raise BackendError(
                f"mediapipe {name} failed on an image of shape {image.shape}: {exc}",
                "the model reloads on the next call; if this repeats, report the image",
            ) from exc

    def close(self) -> None:
        with self._lock:
            for model in self._models.values():
                if hasattr(model, "close"):
                    model.close()
            self._models.clear()

    def __enter__(self) -> MediapipeDlibBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- analysis ------------------------------------------------------------------------
    def analyse(self, image: np.ndarray, *, hands: bool = True, mask: bool = True) -> Analysis:
        image = check_image(image)
        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        small = image if scale == 1.0 else cv2.resize(
            image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
        )
        with self._lock:
            faces = self._faces(image, small, scale)
            found_hands = self._hands(small, scale) if hands else ()
            person = self._mask(small, (w, h)) if mask else None
        return Analysis(width=w, height=h, faces=faces, hands=found_hands, person_mask=person)

    def _faces(self, image: np.ndarray, small: np.ndarray, scale: float) -> tuple[Face, ...]:
        sh, sw = small.shape[:2]
        result = self._process("detect", small)
        found: list[tuple[Box, float, np.ndarray]] = []
        for det in result.detections or ():
            score = float(det.score[0])
            if score < self.min_detection_score:
                continue
            bb = det.location_data.relative_bounding_box
            box = Box(
                bb.xmin * sw / scale, bb.ymin * sh / scale,
                (bb.xmin + bb.width) * sw / scale, (bb.ymin + bb.height) * sh / scale,
            )
            kp = np.array(
                [(k.x * sw, k.y * sh) for k in det.location_data.relative_keypoints],
                dtype=np.float32,
            ) / scale
            found.append((box, score, kp))
        found.sort(key=lambda f: f[0].area, reverse=True)
        faces = []
        for box, score, kp in found[: self.max_faces]:
            mesh = self._mesh(image, box)
            if mesh is not None:
                keypoints, pose = keypoints_from_mesh(mesh), pose_from_mesh(mesh)
            else:
                keypoints, pose = _keypoints_from_detection(kp), None
            faces.append(Face(box=box, score=score, keypoints=keypoints, mesh=mesh, pose=pose))
        return tuple(faces)

    def _mesh(self, image: np.ndarray, box: Box) -> np.ndarray | None:
        """Run the mesh on a square crop around one detected face (the mesh model finds small
        faces in a whole photo badly) and map the points back to image pixels."""
        h, w = image.shape[:2]
        cx, cy = box.center
        side = 1.7 * max(box.width, box.height)
        x0, y0 = cx - side / 2, cy - side / 2
        k = _MESH_INPUT / side
        m = np.array([[k, 0, -x0 * k], [0, k, -y0 * k]], dtype=np.float64)
        crop = cv2.warpAffine(
            image, m, (_MESH_INPUT, _MESH_INPUT),
            flags=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0),
        )
        result = self._process("mesh", crop)
        if not result.multi_face_landmarks:
            return None
        lm = result.multi_face_landmarks[0].landmark
        pts = np.array([(p.x, p.y, p.z) for p in lm], dtype=np.float32) * _MESH_INPUT
        pts[:, 0] = pts[:, 0] / k + x0
        pts[:, 1] = pts[:, 1] / k + y0
        pts[:, 2] = pts[:, 2] / k
        mcx, mcy = pts[:, 0].mean(), pts[:, 1].mean()
        if not (box.x0 - box.width * 0.3 <= mcx <= box.x1 + box.width * 0.3 and
                box.y0 - box.height * 0.3 <= mcy <= box.y1 + box.height * 0.3):
            return None  # the mesh latched onto something else in the crop
        return pts

    def _hands(self, small: np.ndarray, scale: float) -> tuple[Hand, ...]:
        sh, sw = small.shape[:2]
        result = self._process("hands", small)
        hands = []
        for lms, hd in zip(
            result.multi_hand_landmarks or (), result.multi_handedness or (), strict=False
        ):
            pts = np.array([(p.x * sw, p.y * sh, p.z * sw) for p in lms.landmark], np.float32)
            pts /= scale
            cls = hd.classification[0]
            box = Box(*pts[:, 0:2].min(axis=0).tolist(), *pts[:, 0:2].max(axis=0).tolist())
            hands.append(Hand(landmarks=pts, handedness=cls.label, score=float(cls.score), box=box))
        return tuple(hands)

    def _mask(self, small: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        m = self._process("mask", small).segmentation_mask.astype(np.float32)
        if (m.shape[1], m.shape[0]) != size:
            m = cv2.resize(m, size, interpolation=cv2.INTER_LINEAR)
        return np.clip(m, 0.0, 1.0)

    # -- identity ------------------------------------------------------------------------
    def embed(self, image: np.ndarray, face: Face) -> np.ndarray:
        import dlib

        image = check_image(image)
        h, w = image.shape[:2]
        # dlib needs the face inside the frame; a chip around the face keeps it fast on big photos
        pad = 0.6 * max(face.box.width, face.box.height)
        cx0, cy0 = max(0, int(face.box.x0 - pad)), max(0, int(face.box.y0 - pad))
        cx1, cy1 = min(w, int(face.box.x1 + pad)), min(h, int(face.box.y1 + pad))
        chip = np.ascontiguousarray(image[cy0:cy1, cx0:cx1])
        rect = dlib.rectangle(
            int(max(face.box.x0, 0) - cx0), int(max(face.box.y0, 0) - cy0),
            int(min(face.box.x1, w - 1) - cx0), int(min(face.box.y1, h - 1) - cy0),
        )
        with self._lock:
            shape = self._model("shape5")(chip, rect)
            vec = self._model("resnet").compute_face_descriptor(chip, shape)
        return np.asarray(vec, dtype=np.float32)


def _keypoints_from_detection(kp: np.ndarray) -> np.ndarray:
    """mediapipe's detector gives eyes, nose tip and mouth centre; mouth corners are placed
    along the eye line at 0.4 eye distances either side of the mouth centre."""
    right_eye, left_eye, nose, mouth = kp[0], kp[1], kp[2], kp[3]
    half = (left_eye - right_eye) * 0.4
    return np.stack([right_eye, left_eye, nose, mouth - half, mouth + half]).astype(np.float32)


_default: MediapipeDlibBackend | None = None
_default_lock = threading.Lock()


def default_backend() -> MediapipeDlibBackend:
    """The process-wide backend (models load on first use, then stay)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = MediapipeDlibBackend()
        return _default
