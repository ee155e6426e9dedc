"""Mixed precision runs the GPU's code path on the CPU: half-precision frozen weights, fp32
LoRA, autocast in the step, the evaluation loss and the validation portraits."""

from __future__ import annotations

import pytest
import torch
from peft.utils import get_peft_model_state_dict
from safetensors.torch import load_file

from headshots.errors import ConfigError
from headshots.finetune import (
    LORA_NAME,
    FaceLikenessScorer,
    TrainConfig,
    load_base_model,
    precision,
    train_lora,
)
from headshots.finetune import _checkpoint as ckpt
from headshots.finetune._precision import on_device

FAST = dict(learning_rate=1e-2, checkpoint_every=2, validation_steps=2, validation_images=1,
            rank=4, alpha=8, resolution=64)
HALF = {"bf16": torch.bfloat16, "fp16": torch.float16}


@pytest.mark.parametrize("arch", ["sd15", "sdxl"])
@pytest.mark.parametrize("mp", ["bf16", "fp16"])
def test_mixed_precision_trains_validates_saves_and_reloads(tmp_path, tiny, crops, backend,
                                                            arch, mp):
    from diffusers import DiffusionPipeline

    model = load_base_model(tiny[arch])
    result = train_lora(crops, model, tmp_path / "r", TrainConfig(steps=4, mixed_precision=mp,
                        **FAST), device="cpu", scorer=FaceLikenessScorer(backend))
    report = result.report
    assert result.finished and report["precision"] == mp
    assert [c["images"] for c in report["checkpoints"]] == [1, 1]  # validation ran, scored
    unet = model.pipe.unet
    assert unet.conv_in.weight.dtype == HALF[mp]  # frozen weights really were half precision
    lora = {n: p for n, p in unet.named_parameters() if p.requires_grad}
    assert lora and all(p.dtype == torch.float32 for p in lora.values())
    assert model.pipe.vae.dtype == torch.float32  # SDXL's overflows in fp16; it runs rarely
    assert all(torch.isfinite(torch.tensor(report["loss"])))
    fresh = DiffusionPipeline.from_pretrained(str(tiny[arch]))
    fresh.load_lora_weights(str(result.lora.parent), weight_name=LORA_NAME, adapter_name="p")
    loaded = get_peft_model_state_dict(fresh.unet, adapter_name="p")
    trained = get_peft_model_state_dict(unet)
    assert loaded.keys() == trained.keys()
    assert all(torch.equal(loaded[k], trained[k].float()) for k in loaded)


def test_the_safety_checker_is_present_but_not_run_on_validation_portraits(tmp_path, tiny,
                                                                            crops, backend):
    model = load_base_model(tiny["sd15"])
    checker = model.pipe.safety_checker
    assert checker is not None and model.pipe.config.requires_safety_checker
    calls = []
    checker.register_forward_pre_hook(lambda *a: calls.append(1))
    result = train_lora(crops, model, tmp_path / "r", TrainConfig(steps=2, mixed_precision="bf16",
                        **FAST), device="cpu", scorer=FaceLikenessScorer(backend))
    assert result.report["checkpoints"][0]["images"] == 1 and calls == []
    assert model.pipe.safety_checker is checker  # left in place for generation
    # the pipeline itself would run it: the hook is live
    with torch.autocast("cpu", dtype=torch.bfloat16):
        model.pipe(prompt="a photo", num_inference_steps=1, height=64, width=64)
    assert calls == [1]


def test_fp16_resume_restores_the_grad_scaler_and_is_exact(tmp_path, tiny, crops):
    cfg = TrainConfig(steps=6, mixed_precision="fp16", **FAST)
    full = train_lora(crops, tiny["sd15"], tmp_path / "a", cfg, device="cpu")
    train_lora(crops, tiny["sd15"], tmp_path / "b", cfg, device="cpu", stop_after=2)
    resumed = train_lora(crops, tiny["sd15"], tmp_path / "b", cfg, device="cpu")
    assert resumed.report["resumed_from"] == 2
    assert resumed.report["loss"] == pytest.approx(full.report["loss"], abs=0)
    a = ckpt.read_state(tmp_path / "a" / "train" / "checkpoint-000006")["scaler"]
    b = ckpt.read_state(tmp_path / "b" / "train" / "checkpoint-000006")["scaler"]
    assert a == b and a["_growth_tracker"] == 6  # counted across the interruption
    x, y = load_file(str(full.lora)), load_file(str(resumed.lora))
    assert all(torch.equal(x[k], y[k]) for k in x)


def test_auto_precision_follows_compute_capability(monkeypatch):
    cuda = torch.device("cuda")
    auto = TrainConfig()
    for capability, want in [((7, 5), torch.float16), ((7, 0), torch.float16),
                             ((8, 0), torch.bfloat16), ((9, 0), torch.bfloat16)]:
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda d=None, c=capability: c)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # emulated
        assert precision(auto, cuda) == want
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda d=None: (7, 5))
    with pytest.raises(ConfigError, match="compute capability 8.0.*7.5.*--mixed-precision fp16"):
        precision(TrainConfig(mixed_precision="bf16"), cuda)
    assert precision(TrainConfig(mixed_precision="fp16"), cuda) == torch.float16
    cpu = torch.device("cpu")
    assert precision(auto, cpu) == torch.float32  # auto stays fp32 on the CPU
    assert precision(TrainConfig(mixed_precision="bf16"), cpu) == torch.bfloat16
    assert precision(TrainConfig(mixed_precision="fp16"), cpu) == torch.float16


class _Module:
    """Stands in for a torch module on a device we do not have (records .to calls)."""

    def __init__(self, where):
        self.where, self.moves = torch.device(where), []

    def parameters(self):
        yield _P(self.where)

    def to(self, device):
        self.moves.append(str(device))
        self.where = torch.device(device)
        return self


class _P:
    def __init__(self, device):
        self.device = device


def test_parts_parked_off_the_gpu_go_back_after_validation():
    vae, enc = _Module("cpu"), _Module("cuda:0")
    with on_device([vae, enc], torch.device("cuda:0")):
        assert vae.where.type == enc.where.type == "cuda"
    assert vae.moves == ["cuda:0", "cpu"] and str(vae.where) == "cpu"
    assert str(enc.where) == "cuda:0"
