import numpy as np

from headshots.select import Item, SelectConfig, effective_k, select_diverse


def _thumb(seed):
    v = np.random.default_rng(seed).normal(size=(24, 24)).astype(np.float32)
    v -= v.mean()
    return v / np.linalg.norm(v)


def _item(key, score, thumb, style="a", colour=(50, 0, 0), pose=(0, 0)):
    return Item(key, score, thumb, np.array(colour, np.float32), style, np.array(pose, np.float32))


def test_near_duplicates_never_both_selected_and_styles_spread():
    t0 = _thumb(0)
    near = t0 + 0.05 * _thumb(1)
    near /= np.linalg.norm(near)
    items = [
        _item("best", 0.95, t0), _item("twin", 0.94, near),
        _item("b1", 0.80, _thumb(2), style="b", colour=(70, 10, 10), pose=(20, 0)),
        _item("a2", 0.85, _thumb(3)), _item("c1", 0.70, _thumb(4), style="c", pose=(-20, 5)),
    ]
    picked = select_diverse(items, 3)
    assert picked[0] == "best"
    assert "twin" not in picked
    assert picked[1] == "b1"  # another style and pose beats a higher-scored look-alike
    assert select_diverse(items, 3, SelectConfig(lam=1.0, min_distance=0))[:2] == ["best", "twin"]


def test_k_is_respected_and_scaled():
    items = [_item(f"i{n}", 1 - n / 100, _thumb(n)) for n in range(30)]
    assert len(select_diverse(items, 10)) == 10
    cfg = SelectConfig()
    assert effective_k(cfg, 1000, 900) == 100
    assert effective_k(cfg, 200, 150) == 20
    assert effective_k(cfg, 12, 9) == 4
    assert effective_k(cfg, 12, 2) == 2
    assert select_diverse([], 5) == []


def test_near_twin_heads_and_mirror_images_never_both_selected(backend, photos):
    """Real eye-aligned head views: a shot and its mirror image (or a near-twin of one seed
    family) differ in layout and colour, yet must not sit side by side in the selection."""
    from headshots.faces import aligned_crop
    from headshots.intake import _measure as m

    def head(image):
        face = backend.analyse(image, hands=False, mask=False).faces[0]
        return m.thumbnail(aligned_crop(image, face, size=64, eye_mouth=0.3, eye_y=0.45)[0])

    shot = photos["obama2"]
    mirrored = np.ascontiguousarray(shot[:, ::-1])
    warm = np.clip(shot * np.array([1.2, 1.0, 0.8]), 0, 255).astype(np.uint8)
    items = [
        Item("shot", 0.95, _thumb(10), np.array([50, 0, 0], np.float32), "a",
             np.zeros(2, np.float32), head(shot)),
        Item("mirror", 0.94, _thumb(11), np.array([80, 20, 0], np.float32), "b",
             np.array([15, 0], np.float32), head(mirrored)),
        Item("warm-twin", 0.93, _thumb(12), np.array([60, 30, 30], np.float32), "c",
             np.array([-10, 0], np.float32), head(warm)),
        Item("other", 0.60, _thumb(13), np.array([50, 0, 0], np.float32), "a",
             np.zeros(2, np.float32), head(photos["obama"])),
    ]
    assert select_diverse(items, 4) == ["shot", "other"]
    # without the head views, the layout alone lets all four through
    plain = [Item(i.key, i.score, i.thumb, i.colour, i.style, i.pose) for i in items]
    assert len(select_diverse(plain, 4)) == 4
