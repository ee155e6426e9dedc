"""The real likeness scorer on real photos."""

from headshots.finetune import FaceLikenessScorer, choose_checkpoint


def test_same_person_scores_higher_than_others(backend, photos):
    scorer = FaceLikenessScorer(backend, [photos["obama"], photos["obama3"]])
    same = scorer.score([photos["obama2"]])
    other = scorer.score([photos["biden"], photos["astronaut"]])
    assert same.faces_found == 1 and other.faces_found == 2
    assert same.likeness > 0.5 > other.likeness
    noise = scorer.score([photos["astronaut"][:100, 380:]])
    assert noise.likeness is None and noise.faces_found == 0


def test_choose_checkpoint_rules():
    assert choose_checkpoint([(10, 0.2), (20, 0.5), (30, 0.5)])[0] == 30
    assert choose_checkpoint([(10, 0.6), (20, None)])[0] == 10
    step, why = choose_checkpoint([(10, None), (20, None)])
    assert step == 20 and "last checkpoint" in why


def test_public_names_of_finetune_and_intake_exist():
    import importlib

    for package in ("headshots.finetune", "headshots.intake"):
        module = importlib.import_module(package)
        assert len(set(module.__all__)) == len(module.__all__)
        for name in module.__all__:
            assert hasattr(module, name), f"{package}.{name}"
    from headshots.finetune import _data, _export, _precision, _sample, _setup, _validation

    for module in (_data, _export, _precision, _sample, _setup, _validation):
        assert all(hasattr(module, n) for n in module.__all__), module.__name__


def test_references_given_at_scoring_time_replace_the_default_ones(backend, photos):
    scorer = FaceLikenessScorer(backend, [photos["biden"]])
    own = scorer.score([photos["obama2"]], [photos["obama"], photos["obama3"]])
    default = scorer.score([photos["obama2"]])
    assert own.likeness > 0.5 > default.likeness
    assert scorer.score([photos["obama2"]], []).likeness is None  # no references: unmeasured
