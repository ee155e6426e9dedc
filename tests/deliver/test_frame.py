"""Framing on real photos with the real face backend: the eyes land on the configured line
and the head has the configured size in both shapes, whatever the source framing was."""

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
    assert abs(eyes[0] / w - 0.5) < 0.03
    # the configured head size, unless the photo is too narrow: then zoomed in, never smeared
    assert CFG.eye_mouth <= out.eye_mouth <= 0.24
    assert abs(float(np.linalg.norm(mouth - eyes)) / w - out.eye_mouth) < 0.02
    assert abs(kp[0][1] - kp[1][1]) < 0.03 * w  # level eyes


def test_upscale_is_reported(backend, photos):
    image = photos["obama"]
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
    assert CFG.eye_mouth < out.eye_mouth < 0.24
    m = alignment_matrix(face, size=320, eye_y=CFG.eye_y_square, eye_mouth=out.eye_mouth)
    assert _inside(image, m, 320, 320)
    narrow = photos["obama2"]  # narrow and tilted: even the closest crop runs off a little
    face = backend.analyse(narrow, hands=False, mask=False).faces[0]
    assert frame(narrow, face, Framing.PORTRAIT, CFG).eye_mouth == 0.24
