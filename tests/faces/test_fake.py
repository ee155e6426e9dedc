import numpy as np

from headshots.faces import Analysis, Box, Face, FakeFaceBackend


def test_fake_round_trips_scripted_answers():
    img = np.zeros((20, 30, 3), np.uint8)
    face = Face(box=Box(1, 2, 10, 12), score=0.9, keypoints=np.zeros((5, 2), np.float32))
    fake = FakeFaceBackend()
    fake.script(img, Analysis(width=30, height=20, faces=(face,)), [np.ones(128)])
    a = fake.analyse(img)
    assert a.faces == (face,) and fake.calls == 1
    assert np.all(fake.embed(img, face) == 1)
    other = np.ones((20, 30, 3), np.uint8)
    assert fake.analyse(other).faces == ()
