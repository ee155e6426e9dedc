"""Benchmark: our training step vs a plain reference loop written the way diffusers'
``train_dreambooth_lora.py`` does it (VAE-encode the batch and text-encode the prompt every
step), on the same tiny SD1.5 model, data and LoRA. Ratio of steps/s from one run.

Run: .venv/bin/python bench/train_bench.py [--resolution 64] [--steps 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402, N812
from PIL import Image  # noqa: E402

from headshots.finetune import TrainConfig, load_base_model  # noqa: E402
from headshots.finetune._data import LatentCache, load_images, step_generator  # noqa: E402
from headshots.finetune._model import encode_prompts  # noqa: E402
from headshots.finetune._step import StepContext  # noqa: E402
from headshots.testing.tiny_models import build_tiny_pipeline  # noqa: E402


def setup(tmp: Path, res: int):  # noqa: ANN201
    from diffusers import DDPMScheduler
    from peft import LoraConfig

    crops = tmp / "crops"
    crops.mkdir()
    for i, n in enumerate(["obama", "obama2", "obama3", "biden"]):
        with Image.open(ROOT / "tests" / "data" / f"{n}.jpg") as im:
            s = min(im.size)
            im.convert("RGB").crop((0, 0, s, s)).resize((res, res)).save(crops / f"{i}.png")
    model = load_base_model(build_tiny_pipeline(tmp / "tiny", "sd15"))
    for m in (model.pipe.unet, model.pipe.vae, model.pipe.text_encoder):
        m.requires_grad_(False)
    torch.manual_seed(0)
    model.pipe.unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights="gaussian",
                                           target_modules=["to_k", "to_q", "to_v", "to_out.0"]))
    sched = DDPMScheduler.from_config(model.pipe.scheduler.config)
    return model, load_images(crops, res), sched


def ours(model, images, sched, cfg, steps) -> float:  # noqa: ANN001
    dev = torch.device("cpu")
    with torch.no_grad():
        text = encode_prompts(model, [cfg.instance_prompt()], dev)
    cache = LatentCache.encode(model.pipe.vae, images, dev, torch.float32)
    ctx = StepContext(model, cfg, sched, images, cache, text, None, dev, cfg.resolution)
    params = [p for p in model.pipe.unet.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    t0 = time.perf_counter()
    for step in range(steps):
        ctx.loss(step_generator(0, step)).backward()
        opt.step()
        opt.zero_grad()
    return time.perf_counter() - t0


def reference(model, images, sched, cfg, steps) -> float:  # noqa: ANN001
    pipe = model.pipe
    params = [p for p in pipe.unet.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    t0 = time.perf_counter()
    for step in range(steps):
        g = step_generator(0, step)
        idx = torch.randint(0, len(images), (1,), generator=g)
        latents = pipe.vae.encode(images[idx]).latent_dist.sample() * pipe.vae.config.scaling_factor
        ids = pipe.tokenizer([cfg.instance_prompt()], padding="max_length", max_length=77,
                             truncation=True, return_tensors="pt").input_ids
        emb = pipe.text_encoder(ids)[0]
        noise = torch.randn(latents.shape, generator=g)
        t = torch.randint(0, sched.config.num_train_timesteps, (1,), generator=g)
        pred = pipe.unet(sched.add_noise(latents, noise, t), t, encoder_hidden_states=emb).sample
        F.mse_loss(pred, noise).backward()
        opt.step()
        opt.zero_grad()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        model, images, sched = setup(Path(tmp), args.resolution)
        cfg = TrainConfig(resolution=args.resolution, flip=True)
        ours(model, images, sched, cfg, 3)  # warm up
        reference(model, images, sched, cfg, 3)
        a = ours(model, images, sched, cfg, args.steps)
        b = reference(model, images, sched, cfg, args.steps)
    print(f"tiny SD1.5 at {args.resolution} px, {args.steps} steps, 1 thread")
    print(f"ours (cached latents + prompt): {args.steps / a:.1f} steps/s")
    print(f"reference (encode every step):  {args.steps / b:.1f} steps/s")
    print(f"ratio: ours is {b / a:.2f}x the reference's speed")


if __name__ == "__main__":
    main()
