import headshots
from headshots import errors
from headshots.types import Reason


def test_all_names_exist_and_are_sorted_sets():
    for name in headshots.__all__:
        assert hasattr(headshots, name), name
    assert len(set(headshots.__all__)) == len(headshots.__all__)


def test_every_error_in_the_docstring_tree_is_exported():
    for name in errors.__all__:
        assert name in errors.__doc__, f"{name} missing from the tree drawn in errors.py"
        assert issubclass(getattr(errors, name), errors.HeadshotsError)


def test_input_errors_exit_2_and_answer_4xx():
    err = errors.ConfigError("steps must be > 0, got -1", "pass --steps 400")
    assert err.exit_code == 2 and 400 <= err.http_status < 500
    assert str(err) == "steps must be > 0, got -1 — pass --steps 400"
    assert errors.BackendError("x").exit_code == 1


def test_image_error_carries_reason_and_default_fix():
    err = errors.ImageError(Reason.TOO_LARGE, "photo.jpg has 100 MP")
    assert err.reason is Reason.TOO_LARGE
    assert err.to_dict()["reason"] == "too_large"
    assert "resize" in err.fix


def test_every_reason_has_explanation_and_fix():
    expected = {
        "unreadable", "unsupported_format", "too_large", "no_face", "multiple_faces",
        "face_too_small", "face_cut_off", "blurry", "too_dark", "too_bright", "eyes_covered",
        "extreme_pose", "duplicate", "different_person", "bad_hands", "eyes_off",
        "distorted_face", "low_likeness", "nsfw",
    }
    assert {r.value for r in Reason} == expected
    for r in Reason:
        assert r.explanation and r.fix


def test_store_and_config_names_resolve():
    import headshots.config
    import headshots.store

    for module in (headshots.store, headshots.config):
        assert sorted(set(module.__all__)) == sorted(module.__all__)
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"
