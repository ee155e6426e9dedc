import headshots.deliver as deliver


def test_all_is_sorted_unique_and_resolves():
    assert len(set(deliver.__all__)) == len(deliver.__all__)
    for name in deliver.__all__:
        assert getattr(deliver, name) is not None, name
    assert callable(deliver.deliver)
