import json

import numpy as np
import pytest

from headshots.errors import ConfigError
from headshots.testing.tiny_models import build_tiny_pipeline, main


@pytest.mark.parametrize("arch", ["sd15", "sdxl"])
def test_tiny_pipeline_loads_offline_and_generates(tmp_path, arch):
    import torch
    from diffusers import DiffusionPipeline

    path = build_tiny_pipeline(tmp_path / arch, arch)
    pipe = DiffusionPipeline.from_pretrained(str(path))
    assert type(pipe).__name__ == ("StableDiffusionPipeline" if arch == "sd15"
                                   else "StableDiffusionXLPipeline")
    # the written vocabulary is the one loaded: "sks" is a single merged token
    ids = pipe.tokenizer("sks").input_ids
    assert len(ids) == 3 and pipe.tokenizer.convert_ids_to_tokens(ids[1]) == "sks</w>"
    out = pipe("photo of sks person", num_inference_steps=2, height=64, width=64,
               generator=torch.Generator().manual_seed(0), output_type="np").images
    assert out.shape == (1, 64, 64, 3) and np.isfinite(out).all()
    assert sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) < 8_000_000


def test_sd15_mirrors_the_real_repository(tiny):
    """Same components and flags as runwayml/stable-diffusion-v1-5: safety checker with its CLIP
    image processor, requires_safety_checker, a PNDM scheduler with the repo's config."""
    from diffusers import DiffusionPipeline

    index = json.loads((tiny["sd15"] / "model_index.json").read_text())
    assert index["safety_checker"] == ["stable_diffusion", "StableDiffusionSafetyChecker"]
    assert index["feature_extractor"][1].startswith("CLIPImageProcessor")
    assert index["scheduler"] == ["diffusers", "PNDMScheduler"]
    assert index["requires_safety_checker"] is True
    pipe = DiffusionPipeline.from_pretrained(str(tiny["sd15"]))
    assert pipe.safety_checker is not None and pipe.feature_extractor is not None
    sched = pipe.scheduler.config
    assert (sched.skip_prk_steps, sched.steps_offset, sched.set_alpha_to_one) == (True, 1, False)
    assert pipe.vae.config.scaling_factor == pytest.approx(0.18215)


def test_sdxl_mirrors_the_real_repository(tiny):
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(str(tiny["sdxl"]))
    assert pipe.vae.config.force_upcast is True
    assert pipe.vae.config.scaling_factor == pytest.approx(0.13025)
    assert type(pipe.scheduler).__name__ == "EulerDiscreteScheduler"
    assert pipe.scheduler.config.timestep_spacing == "leading"
    assert type(pipe.text_encoder_2).__name__ == "CLIPTextModelWithProjection"
    assert pipe.config.force_zeros_for_empty_prompt is True


def test_deterministic_from_seed(tmp_path):
    from safetensors.numpy import load_file

    a = build_tiny_pipeline(tmp_path / "a", "sd15", seed=3)
    b = build_tiny_pipeline(tmp_path / "b", "sd15", seed=3)
    wa = load_file(str(next((a / "unet").glob("*.safetensors"))))
    wb = load_file(str(next((b / "unet").glob("*.safetensors"))))
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)


def test_cli_and_bad_arch(tmp_path, capsys):
    main([str(tmp_path / "p"), "--arch", "sd15"])
    assert "written to" in capsys.readouterr().out
    assert (tmp_path / "p" / "model_index.json").exists()
    with pytest.raises(ConfigError, match="arch"):
        build_tiny_pipeline(tmp_path / "q", "sd3")
    with pytest.raises(ConfigError, match="size"):
        build_tiny_pipeline(tmp_path / "q", "sd15", size="huge")
