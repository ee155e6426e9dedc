"""What a checkpoint is judged on: portraits in the styles customers order, compared with
selfies the LoRA never saw when the set is big enough to spare some.

Judging on the instance prompt against the training crops rewards the checkpoint that copies
the selfies (same pose, light, background); a styled portrait compared with held-out photos
rewards the one that learned the face.
"""

from __future__ import annotations

from typing import Any

from headshots.finetune._config import TrainConfig

__all__ = ["validation_prompts", "split_holdout", "validation_seeds", "describe"]


def validation_prompts(config: TrainConfig) -> list[tuple[str, str]]:
    """(prompt, negative prompt) per validation portrait, cycling through the styles; an
    unknown style id is a ConfigError before any work starts."""
    from headshots.generate import Identity, builtin_styles, pick_styles

    styles = pick_styles(builtin_styles(), list(config.validation_styles))
    who = Identity(token=config.identity_token, class_word=config.class_word)
    return [(s.prompt(who), s.negative_prompt)
            for s in (styles[i % len(styles)] for i in range(config.validation_images))]


def validation_seeds(config: TrainConfig) -> list[int]:
    return [config.seed + 1000 + i for i in range(config.validation_images)]


def split_holdout(count: int, config: TrainConfig) -> tuple[list[int], list[int]]:
    """(trained, held out) indices: ``holdout`` photos spread evenly through the set when it
    has at least ``holdout_min_photos`` and enough stay to train on."""
    n = config.holdout
    if n == 0 or count < config.holdout_min_photos or count - n < config.min_photos:
        return list(range(count)), []
    held = sorted({(2 * i + 1) * count // (2 * n) for i in range(n)})
    return [i for i in range(count) if i not in held], held


def describe(config: TrainConfig, prompts: list[tuple[str, str]], trained: list[int],
             held: list[int]) -> dict[str, Any]:
    """The report's account of how checkpoints were judged (indices, never file names)."""
    return {
        "styles": list(config.validation_styles),
        "prompts": [p for p, _ in prompts],
        "references": "held_out" if held else "training_crops",
        "held_out": held,
        "photos_trained": len(trained),
    }
