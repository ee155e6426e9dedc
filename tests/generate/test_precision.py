"""Precision, attention and compile on the tiny pipelines: half precision with a LoRA on the
CPU (so a dtype bug fails here, not on the first GPU run), the fp32 VAE upcast, SDPA."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from headshots.errors import BackendError, ConfigError
from headshots.finetune import load_base_model
from headshots.generate import (
    DiffusersGenerator,
    GenerateConfig,
    pick_device,
    resolve_precision,
)
from headshots.types import Reason
from tests.generate.conftest import make_requests

HALF = {"bf16": torch.bfloat16, "fp16": torch.float16}


@pytest.mark.parametrize("arch", ["sd15", "sdxl"])
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_half_precision_with_a_lora_matches_fp32(tiny, loras, arch, precision):
    reqs = make_requests(2, steps=2)
    fp32 = DiffusersGenerator(tiny[arch], lora=loras[arch], device="cpu").generate(reqs)
    gen = DiffusersGenerator(tiny[arch], lora=loras[arch], device="cpu",
                             config=GenerateConfig(precision=precision))
    pipe, dtype = gen.model.pipe, HALF[precision]
    lora_params = [p for n, p in pipe.unet.named_parameters() if "lora" in n]
    assert lora_params and {p.dtype for p in lora_params} == {dtype}
    assert pipe.unet.dtype == dtype and pipe.text_encoder.dtype == dtype
    if arch == "sd15":
        assert gen.safety is not None and gen.safety.checker.dtype == dtype
    else:
        assert gen.safety is None  # SDXL ships no safety checker
    # both tiny VAEs say force_upcast (SDXL explicitly, SD1.5 by diffusers' default): fp16 is
    # upcast, bf16 has fp32's range and stays
    assert pipe.vae.dtype == (torch.float32 if precision == "fp16" else dtype)
    half = gen.generate(reqs)
    assert gen.fingerprint()["precision"] == precision
    for a, b in zip(fp32, half, strict=True):
        assert b.pixels is not None and b.pixels.dtype == np.uint8
        assert np.abs(a.pixels.astype(int) - b.pixels.astype(int)).max() <= 16
    # made alone it matches its batch-mate, in half precision too
    alone = gen.generate([reqs[1]])[0].pixels
    assert np.abs(alone.astype(int) - half[1].pixels.astype(int)).max() <= 2
    # and the LoRA still acts in half precision
    plain = DiffusersGenerator(tiny[arch], device="cpu",
                               config=GenerateConfig(precision=precision)).generate(reqs[:1])
    assert np.abs(plain[0].pixels.astype(int) - half[0].pixels.astype(int)).max() > 2


def _overflowing_vae(path, force_upcast):
    """SDXL with a VAE whose first decoder layer outputs ~1e7: finite in fp32, inf in fp16."""
    model = load_base_model(path)
    model.pipe.vae.post_quant_conv.weight.data *= 1e5
    model.pipe.vae.register_to_config(force_upcast=force_upcast)
    return model


def test_fp16_sdxl_decodes_in_fp32_for_previews_and_finals(tiny):
    model = _overflowing_vae(tiny["sdxl"], force_upcast=True)
    seen = []
    model.pipe.vae.post_quant_conv.register_forward_hook(
        lambda _m, args, out: seen.append((args[0].dtype, bool(torch.isfinite(out).all()))))
    gen = DiffusersGenerator(model, device="cpu", config=GenerateConfig(precision="fp16"),
                             early_check=lambda _image: None)
    assert model.pipe.unet.dtype == torch.float16
    out = gen.generate(make_requests(2, "corporate-grey"))
    # one preview decode and one final decode per candidate, all in fp32 and finite
    assert seen == [(torch.float32, True)] * 4
    assert all(g.pixels is not None and g.pixels.std() > 0 for g in out)


def test_fp16_vae_without_upcast_overflows_with_a_clear_error(tiny):
    gen = DiffusersGenerator(_overflowing_vae(tiny["sdxl"], force_upcast=False), device="cpu",
                             config=GenerateConfig(precision="fp16"))
    assert gen.model.pipe.vae.dtype == torch.float16
    with pytest.raises(BackendError, match="fp16 produced non-finite.*--precision bf16"):
        gen.generate(make_requests(1))


def test_precision_and_device_choices():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_precision("auto", cpu) == "fp32"
    assert resolve_precision("auto", cuda) == "fp16"
    assert resolve_precision("bf16", cpu) == "bf16"
    with pytest.raises(ConfigError, match="precision must be"):
        resolve_precision("int8", cpu)
    assert pick_device("cpu") == cpu
    with pytest.raises(ConfigError, match="device must be"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        assert pick_device("auto") == cpu
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            pick_device("cuda")


def test_default_precision_on_the_cpu_is_fp32(tiny):
    gen = DiffusersGenerator(tiny["sd15"], device="cpu")
    assert gen.precision == "fp32" and gen.model.pipe.unet.dtype == torch.float32


@pytest.mark.skipif(torch.cuda.is_available(), reason="the guard is for machines without a GPU")
def test_a_real_size_model_needs_an_explicit_cpu(tiny, monkeypatch):
    from headshots.finetune import LoadedModel

    monkeypatch.setattr(LoadedModel, "unet_parameters", property(lambda self: 860_000_000))
    with pytest.raises(ConfigError, match="860 M-parameter.*--device cpu"):
        DiffusersGenerator(tiny["sd15"], device="auto")


def test_attention_goes_through_sdpa(tiny, monkeypatch):
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    model = load_base_model(tiny["sd15"])
    model.pipe.unet.set_attn_processor(AttnProcessor())  # as a model saved elsewhere might be
    model.pipe.vae.set_attn_processor(AttnProcessor())
    gen = DiffusersGenerator(model, device="cpu")
    for module in (model.pipe.unet, model.pipe.vae):
        procs = module.attn_processors.values()
        assert procs and all(isinstance(p, AttnProcessor2_0) for p in procs)
    calls = []
    sdpa = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention",
                        lambda *a, **k: calls.append(1) or sdpa(*a, **k))
    gen.unet(torch.zeros(1, 4, 8, 8), 10, encoder_hidden_states=torch.zeros(1, 77, 32))
    assert calls  # the UNet's attention layers called SDPA


def test_compile_flag_hands_the_unet_to_torch_compile(tiny, monkeypatch):
    compiled = []

    class Counting:  # stands in for torch.compile's wrapper; counts the UNet calls through it
        def __init__(self, module):
            self.module, self.calls = module, 0

        def __call__(self, *args, **kwargs):
            self.calls += 1
            return self.module(*args, **kwargs)

    def fake_compile(module, **kwargs):
        compiled.append((module, kwargs))
        return Counting(module)

    monkeypatch.setattr(torch, "compile", fake_compile)
    plain = DiffusersGenerator(tiny["sd15"], device="cpu")
    assert not compiled
    gen = DiffusersGenerator(tiny["sd15"], device="cpu", config=GenerateConfig(compile_unet=True))
    assert [m for m, _ in compiled] == [gen.model.pipe.unet]
    out = gen.generate(make_requests(1))
    assert gen.unet.calls == 4  # every step went through the compiled UNet
    assert np.array_equal(out[0].pixels, plain.generate(make_requests(1))[0].pixels)


@pytest.mark.slow
def test_compiled_unet_really_traces_and_matches(tiny, loras, monkeypatch):
    """A real torch.compile (dynamo tracing the UNet with its LoRA) on the eager backend:
    inductor's C++ code generation would take minutes on this CPU."""
    real = torch.compile
    monkeypatch.setattr(torch, "compile", lambda m, **k: real(m, backend="eager", **k))
    reqs = make_requests(2, "corporate-grey")
    gen = DiffusersGenerator(tiny["sd15"], lora=loras["sd15"], device="cpu",
                             config=GenerateConfig(compile_unet=True))
    plain = DiffusersGenerator(tiny["sd15"], lora=loras["sd15"], device="cpu")
    assert type(gen.unet).__name__ == "OptimizedModule"
    for a, b in zip(gen.generate(reqs), plain.generate(reqs), strict=True):
        assert np.abs(a.pixels.astype(int) - b.pixels.astype(int)).max() <= 1


def test_early_rejection_in_half_precision(tiny):
    gen = DiffusersGenerator(tiny["sdxl"], device="cpu", config=GenerateConfig(precision="bf16"),
                             early_check=lambda image: Reason.NO_FACE)
    out = gen.generate(make_requests(2))
    assert [g.info["early_rejected"] for g in out] == ["no_face", "no_face"]


@pytest.mark.gpu
@pytest.mark.parametrize("arch", ["sd15", "sdxl"])
def test_auto_on_a_gpu_is_fp16_with_an_fp32_vae(tiny, loras, arch):
    gen = DiffusersGenerator(tiny[arch], lora=loras[arch], device="auto")
    pipe = gen.model.pipe
    assert gen.device.type == "cuda" and gen.precision == "fp16"
    assert pipe.unet.dtype == torch.float16 and pipe.vae.dtype == torch.float32
    assert pipe.unet.device.type == "cuda"
    if gen.safety is not None:
        assert gen.safety.checker.device.type == "cuda"
    cpu = DiffusersGenerator(tiny[arch], lora=loras[arch], device="cpu")
    reqs = make_requests(2, steps=2)
    for a, b in zip(gen.generate(reqs), cpu.generate(reqs), strict=True):
        assert a.pixels is not None  # same seeds, same noise: close to the CPU's fp32 image
        assert np.abs(a.pixels.astype(int) - b.pixels.astype(int)).max() <= 16
