"""The real backend on cases the main tests leave out: the downscale path (big photos),
keypoint order, the detector-only fallback, faces at the frame edge, odd inputs, reuse."""

import threading

import cv2
import numpy as np
import pytest

from headshots.errors import BackendError, ConfigError
from headshots.faces import MediapipeDlibBackend, aligned_crop, default_backend

SAME = ["obama", "obama2", "obama3"]


def _face(backend, img):
    return backend.analyse(img, hands=False, mask=False).faces[0]


def _eye_dist(face):
    return float(np.linalg.norm(face.keypoints[1] - face.keypoints[0]))


def test_big_photo_is_mapped_back_to_its_own_pixels(backend, photos):
    # 2560x3200 goes through the downscaled copy; everything must come back in big pixels
    img = photos["obama"]
    small = backend.analyse(img)
    big_img = cv2.resize(img, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    big = backend.analyse(big_img)
    f, g = small.faces[0], big.faces[0]
    tol = 0.05 * _eye_dist(f)
    for a, b in zip((f.box.x0, f.box.y0, f.box.x1, f.box.y1),
                    (g.box.x0, g.box.y0, g.box.x1, g.box.y1), strict=True):
        assert b / 4 == pytest.approx(a, abs=tol)
    assert np.abs(g.keypoints / 4 - f.keypoints).max() < tol
    assert g.mesh is not None and np.abs(g.mesh[:, :2] / 4 - f.mesh[:, :2]).max() < 4 * tol
    assert (big.width, big.height) == (2560, 3200)
    assert big.person_mask is not None and big.person_mask.shape == (3200, 2560)
    assert len(big.hands) == len(small.hands) == 1
    hb, hs = big.hands[0].box, small.hands[0].box
    assert hb.center[0] / 4 == pytest.approx(hs.center[0], abs=4 * tol)
    assert hb.center[1] / 4 == pytest.approx(hs.center[1], abs=4 * tol)
    # identity does not care about resolution
    assert float(np.linalg.norm(backend.embed(big_img, g) - backend.embed(img, f))) < 0.15


def test_keypoints_are_in_the_persons_order(backend, photos):
    for name, img in photos.items():
        kp = _face(backend, img).keypoints
        assert kp.shape == (5, 2)
        # the person's right eye / mouth corner are on the image's left
        assert kp[0, 0] < kp[2, 0] < kp[1, 0], name
        assert kp[3, 0] < kp[4, 0], name
        # eyes above the nose tip above the mouth
        assert max(kp[0, 1], kp[1, 1]) < kp[2, 1] < min(kp[3, 1], kp[4, 1]), name


def test_detector_fallback_keypoints_agree_with_the_mesh(backend, photos, monkeypatch):
    # when the mesh finds nothing, the 5 points come from the detector's 6 points
    img = photos["obama"]
    with_mesh = _face(backend, img)
    monkeypatch.setattr(backend, "_mesh", lambda *a: None)
    without = _face(backend, img)
    assert without.mesh is None and without.pose is None
    err = np.linalg.norm(without.keypoints - with_mesh.keypoints, axis=1) / _eye_dist(with_mesh)
    assert err.max() < 0.35, err


def test_cut_off_side_face_still_embeds_as_the_person(backend, photos):
    # the box runs past the left edge: dlib gets a clipped rectangle and still knows the face
    img = photos["obama"]
    f = _face(backend, img)
    cut = np.ascontiguousarray(img[:, int(f.box.x0 + f.box.width * 0.3):])
    g = _face(backend, cut)
    assert g.box.x0 < 0
    ref = backend.embed(photos["obama2"], _face(backend, photos["obama2"]))
    assert float(np.linalg.norm(backend.embed(cut, g) - ref)) < 0.6
    # framing past the edge repeats edge pixels: no black bars
    crop, _ = aligned_crop(cut, g, size=128)
    assert (crop.max(axis=2) < 5).mean() < 0.01


def test_rotation_either_way_changes_roll_with_the_right_sign(backend, photos):
    img = photos["obama3"]
    h, w = img.shape[:2]
    base = _face(backend, img).pose.roll
    for angle in (20, -20):  # cv2: positive = counter-clockwise, roll is clockwise-positive
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        rotated = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        assert _face(backend, rotated).pose.roll - base == pytest.approx(-angle, abs=4)


def test_person_mask_leaves_the_top_corners(backend, photos):
    for name, img in photos.items():
        m = backend.analyse(img, hands=False).person_mask
        h, w = m.shape
        k = h // 20
        for corner in (m[:k, :k], m[:k, w - k:]):
            assert float(corner.mean()) < 0.2, name


def test_a_mirrored_view_needs_no_copy(backend, photos):
    view = photos["obama2"][:, ::-1]  # negative strides
    assert not view.flags.c_contiguous
    f = _face(backend, view)
    g = _face(backend, view.copy())
    assert f.box == g.box
    assert np.allclose(backend.embed(view, f), backend.embed(view.copy(), g))


@pytest.mark.parametrize("shape", [(0, 0, 3), (0, 10, 3), (10, 0, 3)])
def test_empty_image_is_a_config_error(backend, shape):
    with pytest.raises(ConfigError, match="empty"):
        backend.analyse(np.zeros(shape, np.uint8))


def test_bad_input_to_embed_is_named(backend, photos):
    f = _face(backend, photos["obama"])
    with pytest.raises(ConfigError, match="uint8"):
        backend.embed(photos["obama"].astype(np.float32), f)
    with pytest.raises(ConfigError, match=r"\(H, W, 3\)"):
        backend.embed(np.zeros((10, 10, 4), np.uint8), f)


def test_threads_share_one_backend_safely(backend, photos):
    expected = {n: _face(backend, photos[n]).box for n in SAME}
    got: dict[str, list] = {n: [] for n in SAME}

    def work(name):
        for _ in range(3):
            got[name].append(_face(backend, photos[name]).box)

    threads = [threading.Thread(target=work, args=(n,)) for n in SAME]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(boxes == [expected[n]] * 3 for n, boxes in got.items())


def test_closed_backend_reloads_on_next_use(photos):
    b = MediapipeDlibBackend()
    first = _face(b, photos["biden"]).box
    b.close()
    assert _face(b, photos["biden"]).box == first
    b.close()


def test_default_backend_is_one_per_process():
    assert default_backend() is default_backend()


def test_aligned_crop_portrait_aspect(backend, photos):
    f = _face(backend, photos["obama"])
    crop, m = aligned_crop(photos["obama"], f, size=200, aspect=1.25)
    assert crop.shape == (250, 200, 3)
    eyes = (m[:, :2] @ f.keypoints[:2].T).T + m[:, 2]
    assert eyes[:, 1] == pytest.approx([0.42 * 250] * 2, abs=0.5)
    assert eyes[:, 0].mean() == pytest.approx(100, abs=0.5)
    with pytest.raises(ConfigError, match="size"):
        aligned_crop(photos["obama"], f, size=8)


def test_a_failing_graph_is_reloaded_not_left_broken(photos):
    # mediapipe keeps a graph that raised broken for every later call; the backend drops it
    b = MediapipeDlibBackend()
    before = _face(b, photos["biden"]).box
    with pytest.raises(BackendError, match="mediapipe detect failed"):
        b._process("detect", np.zeros((0, 8, 3), np.uint8))
    assert _face(b, photos["biden"]).box == before
    b.close()
