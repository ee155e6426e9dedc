"""Plausibility of eyes, face proportions and hands, from mesh and hand landmarks."""

from __future__ import annotations

import numpy as np

__all__ = ["gaze_and_iris", "face_proportions", "hand_problems"]

_FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))


def _along(mesh: np.ndarray, a: int, b: int, p: int) -> float:
    A, B, P = mesh[a, :2], mesh[b, :2], mesh[p, :2]
    v = B - A
    return float(np.dot(P - A, v) / max(float(np.dot(v, v)), 1e-6))


def gaze_and_iris(mesh: np.ndarray) -> tuple[float, float]:
    """(gaze asymmetry, iris size ratio). Both irises' positions are measured left-to-right
    in the image along their eye, so a shared gaze direction cancels out."""
    right = _along(mesh, 33, 133, 468)
    left = _along(mesh, 362, 263, 473)

    def radius(c: int, ring: range) -> float:
        return float(np.mean([np.linalg.norm(mesh[i, :2] - mesh[c, :2]) for i in ring]))

    r1, r2 = radius(468, range(469, 473)), radius(473, range(474, 478))
    return abs(right - left), max(r1, r2) / max(min(r1, r2), 1e-6)


def face_proportions(mesh: np.ndarray) -> dict[str, float]:
    p = mesh[:, :2]
    right_eye, left_eye = p[[33, 133]].mean(axis=0), p[[362, 263]].mean(axis=0)
    interocular = float(np.linalg.norm(left_eye - right_eye))
    height = max(float(np.linalg.norm(p[10] - p[152])), 1e-6)
    return {
        "eye_face": interocular / height,
        "nose_face": float(np.linalg.norm(p[168] - p[1])) / height,
        "mouth_eye": float(np.linalg.norm(p[61] - p[291])) / max(interocular, 1e-6),
    }


def hand_problems(landmarks: np.ndarray) -> list[str]:
    """What is anatomically off about a 21-point hand (empty: plausible). Lengths are relative
    to the palm (wrist to middle-finger knuckle); a real hand's finger bones are 0.35-0.85."""
    pts = landmarks[:, :2]
    palm = float(np.linalg.norm(pts[9] - pts[0]))
    if palm < 1e-3:
        return ["collapsed palm"]
    problems = []
    for n, finger in enumerate(_FINGERS):
        bones = [float(np.linalg.norm(pts[finger[i + 1]] - pts[finger[i]])) / palm
                 for i in range(3)]
        if any(b > 1.2 or b < 0.08 for b in bones):
            problems.append(f"finger {n} bone length {max(bones):.2f} palms")
        base = float(np.linalg.norm(pts[finger[0]] - pts[0])) / palm
        if not 0.3 <= base <= 1.6:
            problems.append(f"finger {n} root {base:.2f} palms from the wrist")
    knuckles = pts[[5, 9, 13, 17]]
    gaps = np.linalg.norm(np.diff(knuckles, axis=0), axis=1) / palm
    if (gaps > 0.8).any():
        problems.append("knuckles spread apart")
    return problems
