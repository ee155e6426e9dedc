"""SDXL's size conditioning: every training step tells the UNet each crop's true original size
and crop corner (from the crops manifest), as diffusers' SDXL DreamBooth script does."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from headshots.finetune import TrainConfig, load_base_model, train_lora
from headshots.finetune._data import load_images
from headshots.intake import CROP_MANIFEST, CropInfo


def _crops_with_manifest(folder, src, size):
    folder.mkdir()
    infos = []
    for i, f in enumerate(sorted(src.glob("*.png"))):
        with Image.open(f) as im:
            im.resize((size, size)).save(folder / f.name)
        infos.append(CropInfo(file=f.name, resolution=size, original_size=(4032, 3024 - 100 * i),
                              scaled_size=(size * 5, size * 4), crop_top_left=(size + i, 2 * i),
                              scale=0.3))
    (folder / CROP_MANIFEST).write_text(json.dumps(
        {"version": 1, "resolution": size, "crops": [c.to_dict() for c in infos]}))
    return infos


def test_sdxl_steps_carry_each_crops_original_size_and_corner(tmp_path, tiny, crops):
    infos = _crops_with_manifest(tmp_path / "c", crops, 128)  # prepared at 128, trained at 64
    expected = set()
    for c in infos:
        top, left = round(c.crop_top_left[0] / 2), round(c.crop_top_left[1] / 2)
        flipped = c.scaled_size[1] // 2 - left - 64
        expected |= {(*c.original_size, top, left, 64, 64),
                     (*c.original_size, top, flipped, 64, 64)}
    model = load_base_model(tiny["sdxl"])
    seen = []

    def spy(module, args, kwargs):
        seen.extend(tuple(int(v) for v in row) for row in kwargs["added_cond_kwargs"]["time_ids"])

    model.pipe.unet.register_forward_pre_hook(spy, with_kwargs=True)
    result = train_lora(tmp_path / "c", model, tmp_path / "r", TrainConfig(
        steps=12, resolution=64, rank=4, checkpoint_every=12, batch_size=2), device="cpu")
    assert result.finished and len(seen) > 24
    assert set(seen) <= expected and len(set(seen)) >= 4
    assert (64, 64, 0, 0, 64, 64) not in seen  # what the trainer used to claim for every crop
    lefts = {round(c.crop_top_left[1] / 2) for c in infos}
    assert {s[3] for s in seen} & lefts and {s[3] for s in seen} - lefts  # as is and mirrored


def test_time_ids_without_a_manifest_describe_the_file_as_loaded(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (96, 64, 3), np.uint8)).save(folder / "a.png")
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), np.uint8)).save(folder / "b.png")
    images = load_images(folder, 64)
    assert images.pixels.shape == (2, 3, 64, 64)
    # a 64x96 portrait: short side already 64, centre crop starts 16 rows down
    assert images.time_ids[0].tolist() == [[96, 64, 16, 0, 64, 64]] * 2
    assert images.time_ids[1].tolist() == [[64, 64, 0, 0, 64, 64]] * 2
    assert images.upscaled == 0


def test_upscaled_crops_are_counted_and_small_ones_refused(tmp_path, crops):
    from headshots.errors import ConfigError

    infos = _crops_with_manifest(tmp_path / "c", crops, 64)
    manifest = json.loads((tmp_path / "c" / CROP_MANIFEST).read_text())
    manifest["crops"][0]["scale"] = 1.6  # a face smaller than the crop in its photo
    (tmp_path / "c" / CROP_MANIFEST).write_text(json.dumps(manifest))
    assert load_images(tmp_path / "c", 64).upscaled == 1
    assert load_images(tmp_path / "c", 32).upscaled == 0  # at half the size it has the pixels
    with pytest.raises(ConfigError, match=r"4 of 4 images .* \(64 px\) .* 128 px"):
        load_images(tmp_path / "c", 128)
    assert len(infos) == 4 and torch.is_tensor(load_images(tmp_path / "c", 64).time_ids)
