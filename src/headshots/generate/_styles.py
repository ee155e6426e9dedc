"""The style catalog: wardrobe x backdrop x lighting x framing, as YAML files.

Built-ins live in ``headshots/generate/styles/*.yaml``; a person's own styles can come from any
folder or file of the same shape, or from a free-form prompt.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from headshots.errors import ConfigError, NotFoundError

__all__ = ["Style", "Identity", "load_styles", "builtin_styles", "custom_style", "pick_styles"]


class Style(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$", description="short slug")
    title: str = Field(min_length=1)
    wardrobe: str = ""
    backdrop: str = ""
    lighting: str = ""
    framing: str = "head and shoulders"
    negative_prompt: str = ""
    steps: int = Field(30, ge=1, le=200, description="sampling steps")
    guidance: float = Field(6.5, ge=0, le=30, description="classifier-free guidance scale")
    extra: str = Field("", description="free-form words appended to the prompt")

    def prompt(self, identity: Identity) -> str:
        parts = [
            f"professional {self.framing} headshot photo of {identity.subject()}",
            f"wearing {self.wardrobe}" if self.wardrobe else "",
            self.backdrop, self.lighting, self.extra,
            "sharp focus, detailed skin, 85mm lens",
        ]
        return ", ".join(p for p in parts if p)


class Identity(BaseModel):
    """Who the picture is of, in the person's own words (never guessed from the photos)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: str = Field("sks", min_length=1, description="the fine-tune's identity token")
    class_word: str = Field("person", min_length=1, description="woman, man, person, ...")
    descriptors: str = Field("", description="optional words the person chose, e.g. 'young'")

    def subject(self) -> str:
        words = [self.token, self.descriptors, self.class_word]
        return " ".join(w for w in words if w)


def _load_file(path: Path, text: str) -> Style:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"style file {path} is not valid YAML ({exc})", "fix its syntax") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"style file {path} must hold a mapping of fields",
                          "see the built-in styles for the shape")
    try:
        return Style(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "?"
        raise ConfigError(
            f"style file {path}: field {field!r} {err['msg'].lower()} (got {err.get('input')!r})",
            "fix that field; fields: id, title, wardrobe, backdrop, lighting, framing, "
            "negative_prompt, steps, guidance, extra",
        ) from None


def builtin_styles() -> dict[str, Style]:
    folder = resources.files("headshots") / "generate" / "styles"
    styles = [_load_file(Path(f.name), f.read_text()) for f in folder.iterdir()
              if f.name.endswith(".yaml")]
    return {s.id: s for s in sorted(styles, key=lambda s: s.id)}


def load_styles(source: Path | None = None) -> dict[str, Style]:
    """The built-ins, plus (overriding by id) the styles of a YAML file or folder."""
    styles = builtin_styles()
    if source is None:
        return styles
    if not source.exists():
        raise NotFoundError(f"style file or folder {source} does not exist",
                            "pass a .yaml file or a folder of them")
    files = sorted(source.glob("*.yaml")) if source.is_dir() else [source]
    for f in files:
        style = _load_file(f, f.read_text())
        styles[style.id] = style
    return styles


def custom_style(prompt: str, style_id: str = "custom") -> Style:
    """A style from a free-form description (it replaces wardrobe/backdrop/lighting)."""
    if not prompt.strip():
        raise ConfigError("the custom prompt is empty", "describe the look, e.g. 'red scarf'")
    return Style(id=style_id, title="Custom", extra=prompt.strip(),
                 negative_prompt=builtin_styles()["corporate-grey"].negative_prompt)


def pick_styles(catalog: dict[str, Style], ids: str | list[str]) -> list[Style]:
    wanted = [i.strip() for i in (ids.split(",") if isinstance(ids, str) else ids) if i.strip()]
    if not wanted:
        raise ConfigError("no styles were named", "pass --styles with ids from `headshots styles`")
    unknown = [i for i in wanted if i not in catalog]
    if unknown:
        raise ConfigError(f"unknown style(s): {', '.join(unknown)}",
                          f"choose from: {', '.join(catalog)}")
    return [catalog[i] for i in wanted]
