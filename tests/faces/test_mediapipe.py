"""The real backend on real photos."""

import itertools

import cv2
import numpy as np
import pytest

import headshots.faces as faces_pkg
from headshots.errors import ConfigError
from headshots.faces import FaceBackend, aligned_crop

SAME = ["obama", "obama2", "obama3"]


def test_is_a_face_backend(backend):
    assert isinstance(backend, FaceBackend)


def test_public_names():
    for name in faces_pkg.__all__:
        assert hasattr(faces_pkg, name)


def test_one_face_inside_each_photo_with_mesh_and_pose(backend, photos):
    for name, img in photos.items():
        a = backend.analyse(img)
        assert len(a.faces) == 1, name
        f = a.faces[0]
        assert f.box.inside(a.width, a.height), name
        assert f.score > 0.7
        assert f.mesh is not None and f.mesh.shape == (478, 3)
        assert f.pose is not None and abs(f.pose.yaw) < 30
        # the iris centres (468, 473) sit inside the face box
        for i in (468, 473):
            x, y = f.mesh[i, :2]
            assert f.box.x0 < x < f.box.x1 and f.box.y0 < y < f.box.y1


def test_identity_same_person_closer_than_others(backend, photos):
    emb = {n: backend.embed(img, backend.analyse(img, hands=False, mask=False).faces[0])
           for n, img in photos.items()}
    assert all(v.shape == (128,) for v in emb.values())
    for a, b in itertools.combinations(emb, 2):
        d = float(np.linalg.norm(emb[a] - emb[b]))
        if a in SAME and b in SAME:
            assert d < 0.5, (a, b, d)
        else:
            assert d > 0.65, (a, b, d)


def test_mirror_flips_yaw(backend, photos):
    img = photos["obama2"]  # turned about 15 degrees
    yaw = backend.analyse(img, hands=False, mask=False).faces[0].pose.yaw
    yaw_m = backend.analyse(img[:, ::-1].copy(), hands=False, mask=False).faces[0].pose.yaw
    assert abs(yaw) > 8 and np.sign(yaw) == -np.sign(yaw_m)
    assert abs(yaw + yaw_m) < 6


def test_rotation_changes_roll_by_the_angle(backend, photos):
    img = photos["astronaut"]
    h, w = img.shape[:2]
    base = backend.analyse(img, hands=False, mask=False).faces[0].pose.roll
    # cv2 positive angle = counter-clockwise in the image, so roll (clockwise) drops by 20
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 20, 1.0)
    rotated = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    roll = backend.analyse(rotated, hands=False, mask=False).faces[0].pose.roll
    assert roll - base == pytest.approx(-20, abs=4)


def test_two_faces_in_a_composite(backend, photos):
    a, b = photos["obama3"], photos["biden"]
    h = min(a.shape[0], b.shape[0])
    comp = np.hstack([a[:h], b[:h]])
    found = backend.analyse(comp, hands=False, mask=False).faces
    assert len(found) == 2
    assert found[0].box.area >= found[1].box.area


def test_cut_off_face_box_runs_past_the_frame(backend, photos):
    img = photos["obama"]
    f = backend.analyse(img, hands=False, mask=False).faces[0]
    cut = img[int(f.box.center[1]):]  # top half of the face gone
    found = backend.analyse(cut, hands=False, mask=False).faces
    assert not found or not found[0].box.inside(cut.shape[1], cut.shape[0])


def test_hands_found_where_there_is_a_hand(backend, photos):
    # obama.jpg shows his raised hand beside the face; the others show none
    a = backend.analyse(photos["obama"])
    assert len(a.hands) == 1
    hand = a.hands[0]
    assert hand.landmarks.shape == (21, 3)
    assert hand.box.center[1] > a.faces[0].box.y1  # below the face
    assert backend.analyse(photos["obama"], hands=False).hands == ()
    assert backend.analyse(photos["astronaut"]).hands == ()


def test_person_mask_covers_the_face_not_the_corners(backend, photos):
    img = photos["biden"]
    a = backend.analyse(img)
    m = a.person_mask
    assert m is not None and m.shape == img.shape[:2] and m.dtype == np.float32
    cx, cy = (int(v) for v in a.faces[0].box.center)
    assert m[cy, cx] > 0.8
    assert backend.analyse(img, mask=False).person_mask is None


def test_aligned_crops_put_eyes_level_at_the_same_place(backend, photos):
    for name in SAME:
        img = photos[name]
        f = backend.analyse(img, hands=False, mask=False).faces[0]
        crop, m = aligned_crop(img, f, size=256)
        assert crop.shape == (256, 256, 3) and crop.dtype == np.uint8
        eyes = (m[:, :2] @ f.keypoints[:2].T).T + m[:, 2]
        assert eyes[0, 1] == pytest.approx(eyes[1, 1], abs=0.5)
        assert eyes.mean(axis=0)[1] == pytest.approx(0.42 * 256, abs=0.5)
        # the crop itself still holds a face of about the intended size
        g = backend.analyse(crop, hands=False, mask=False).faces[0]
        assert 0.2 * 256 < g.box.height < 0.6 * 256


def test_bad_input_is_named(backend):
    with pytest.raises(ConfigError, match=r"shape \(H, W, 3\)"):
        backend.analyse(np.zeros((10, 10), np.uint8))
    with pytest.raises(ConfigError, match="uint8"):
        backend.analyse(np.zeros((10, 10, 3), np.float32))


def test_blank_image_has_no_face(backend):
    assert backend.analyse(np.full((300, 300, 3), 128, np.uint8)).faces == ()
