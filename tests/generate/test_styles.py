import pytest

import headshots.generate as gen
from headshots.errors import ConfigError, NotFoundError
from headshots.generate import Identity, builtin_styles, custom_style, load_styles, pick_styles


def test_public_names():
    for name in gen.__all__:
        assert hasattr(gen, name)


def test_at_least_twelve_builtins_customers_ask_for():
    cat = builtin_styles()
    assert len(cat) >= 12
    for wanted in ("corporate-grey", "navy-blazer", "outdoor-natural", "creative-colour",
                   "doctor-white-coat", "casual-sweater", "dark-low-key", "office-environment"):
        assert wanted in cat
    assert all(s.negative_prompt and s.title for s in cat.values())


def test_prompt_uses_the_persons_own_words():
    style = builtin_styles()["doctor-white-coat"]
    p = style.prompt(Identity(token="zqx", class_word="woman", descriptors="middle-aged"))
    assert "zqx middle-aged woman" in p and "white medical coat" in p
    assert "man " not in p.replace("woman", "")


def test_custom_yaml_overrides_and_errors_name_file_and_field(tmp_path):
    (tmp_path / "mine.yaml").write_text("id: mine\ntitle: Mine\nwardrobe: red scarf\n")
    cat = load_styles(tmp_path)
    assert "mine" in cat and len(cat) == len(builtin_styles()) + 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\ntitle: Bad\nsteps: -3\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: field 'steps'.*-3"):
        load_styles(bad)
    bad.write_text("id: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_styles(bad)
    with pytest.raises(NotFoundError):
        load_styles(tmp_path / "nope.yaml")


def test_pick_and_custom():
    cat = builtin_styles()
    assert [s.id for s in pick_styles(cat, "navy-blazer, dark-low-key")] == [
        "navy-blazer", "dark-low-key"]
    with pytest.raises(ConfigError, match="unknown style.*choose from"):
        pick_styles(cat, "navy-blazer,pirate")
    assert "red scarf" in custom_style("red scarf").prompt(Identity())
    with pytest.raises(ConfigError):
        custom_style("  ")
