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
