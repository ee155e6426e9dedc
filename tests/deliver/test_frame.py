"""Framing on real photos with the real face backend: the eyes land on the configured line
and the head has the configured size in both shapes, whatever the source framing was, and no
output pixel comes from beyond the photo (no smeared edge streaks)."""

import cv2
import numpy as np
import pytest

from headshots.deliver import DeliverConfig, Framing, frame

CFG = DeliverConfig(width=320)


@pytest.mark.parametrize("name", ["obama", "obama2", "obama3"])
@pytest.mark.parametrize("framing", [Framing.SQUARE, Framing.PORTRAIT])
def test_eyes_on_the_line_and_head_size_consistent(backend, photos, name, framing):
    image = photos[name]
    face = backend.analyse(image, hands=False, mask=False).faces[0]
    out = frame(image, face, framing, CFG)
    w, h = out.size
    assert (w, h) == (320, 320 if framing is Framing.SQUARE else 400)
    assert out.method == "face" and out.pixels.dtype == np.uint8
    # detect again on the framed result: where did the eyes and mouth end up?
    again = backend.analyse(out.pixels, hands=False, mask=False).faces[0]
    kp = np.asarray(again.keypoints)
    eyes, mouth = (kp[0] + kp[1]) / 2, (kp[3] + kp[4]) / 2
    eye_y = CFG.eye_y_square if framing is Framing.SQUARE else CFG.eye_y_portrait
    assert abs(eyes[1] / h - eye_y) < 0.03
    if not out.shifted:  # a narrow photo moves the frame sideways: off-centre, never smeared
        assert abs(eyes[0] / w - 0.5) < 0.03
    # the configured head size, unless the photo is too small: then zoomed in, never smeared
    assert CFG.eye_mouth <= out.eye_mouth <= 0.4
    assert from_outside(image, out) == 0
    assert abs(float(np.linalg.norm(mouth - eyes)) / w - out.eye_mouth) < 0.02
    assert abs(kp[0][1] - kp[1][1]) < 0.03 * w  # level eyes


def from_outside(image: np.ndarray, out) -> int:
    """How many output pixels were sampled beyond the photo (warping a mask the same way)."""
    if out.matrix is None:
        return 0
    inside = np.ones(image.shape[:2], np.uint8)
    w, h = out.size
    warped = cv2.warpAffine(inside, out.matrix, (w, h), flags=cv2.INTER_NEAREST,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return int((warped == 0).sum())


def replicated_edges(pixels: np.ndarray) -> dict[str, int]:
    """Per side, how many of the outermost 8 columns / rows repeat their neighbour (a smear of
    edge pixels; real photo texture never repeats a whole line)."""
    sides = {"left": pixels[:, :9], "right": pixels[:, ::-1][:, :9],
             "top": pixels[:9].transpose(1, 0, 2), "bottom": pixels[::-1][:9].transpose(1, 0, 2)}
    return {k: int((np.abs(np.diff(v.astype(int), axis=1)).max(axis=(0, 2)) <= 2).sum())
            for k, v in sides.items()}


def test_upscale_is_reported(backend, photos):
    image = np.pad(photos["obama"], ((300, 300), (300, 300), (0, 0)), mode="reflect")
    face = backend.analyse(image, hands=False, mask=False).faces[0]
    small = frame(image, face, Framing.SQUARE, DeliverConfig(width=128))
    big = frame(image, face, Framing.SQUARE, DeliverConfig(width=1024))
    assert big.upscale == pytest.approx(small.upscale * 8, rel=1e-6)


def test_without_a_face_a_centred_crop_of_the_right_shape():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (300, 500, 3), dtype=np.uint8)
    image[:, 100:400] = 7  # the centred 300x300 square is flat grey
    out = frame(image, None, Framing.SQUARE, DeliverConfig(width=150))
    assert out.method == "centre" and out.size == (150, 150)
    assert out.upscale == pytest.approx(0.5)
    assert np.all(out.pixels == 7)
    tall = frame(image, None, Framing.PORTRAIT, DeliverConfig(width=160))
    assert tall.size == (160, 200)


def test_zooms_in_rather_than_smearing_edges(backend, photos):
    from headshots.deliver._frame import _inside
    from headshots.faces import alignment_matrix

    roomy = np.pad(photos["obama"], ((300, 300), (300, 300), (0, 0)), mode="reflect")
    face = backend.analyse(roomy, hands=False, mask=False).faces[0]
    assert frame(roomy, face, Framing.SQUARE, CFG).eye_mouth == CFG.eye_mouth  # room: no zoom
    image = photos["obama"]  # the frame at the configured size would run off the top
    face = backend.analyse(image, hands=False, mask=False).faces[0]
    out = frame(image, face, Framing.SQUARE, CFG)
    assert CFG.eye_mouth < out.eye_mouth < 0.24 and not out.shifted
    m = alignment_matrix(face, size=320, eye_y=CFG.eye_y_square, eye_mouth=out.eye_mouth)
    assert _inside(image, m, 320, 320)
    assert from_outside(image, out) == 0


@pytest.fixture(scope="module")
def edge_cases(backend, photos) -> dict[str, np.ndarray]:
    """The cases the zoom alone missed: a face near the side of a wide photo, a narrow photo
    (the frame at the closest zoom is wider than it), and obama2 (narrow and tilted)."""
    ob = photos["obama"]
    box = backend.analyse(ob, hands=False, mask=False).faces[0].box
    roomy = np.pad(ob, ((400, 0), (0, 900), (0, 0)), mode="reflect")  # room above and right
    x0 = int(box.x0 - 0.1 * box.width)
    return {
        "face_near_left_edge_of_wide_photo": np.ascontiguousarray(roomy[:, x0:x0 + 1200]),
        "narrow_photo": np.ascontiguousarray(ob[:, int(box.x0) - 40:int(box.x1) + 40]),
        "narrow_tilted": photos["obama2"],
    }


@pytest.mark.parametrize("case", ["face_near_left_edge_of_wide_photo", "narrow_photo",
                                  "narrow_tilted"])
@pytest.mark.parametrize("framing", [Framing.SQUARE, Framing.PORTRAIT])
def test_no_delivered_pixel_is_a_replicated_edge(backend, edge_cases, case, framing):
    image = edge_cases[case]
    face = backend.analyse(image, hands=False, mask=False).faces[0]
    out = frame(image, face, framing, CFG)
    assert out.method == "face"
    assert from_outside(image, out) == 0
    assert replicated_edges(out.pixels) == {"left": 0, "right": 0, "top": 0, "bottom": 0}
    # moved sideways, not up or down: the eyes stay on their line, the head keeps its size
    assert out.shifted
    again = backend.analyse(out.pixels, hands=False, mask=False).faces[0]
    eyes = (again.keypoints[0] + again.keypoints[1]) / 2
    eye_y = CFG.eye_y_square if framing is Framing.SQUARE else CFG.eye_y_portrait
    assert abs(eyes[1] / out.size[1] - eye_y) < 0.03
    if case == "face_near_left_edge_of_wide_photo":
        assert out.eye_mouth == CFG.eye_mouth  # room enough: the configured head size
        assert eyes[0] / out.size[0] < 0.45  # the face sits left of centre, as in the photo
