"""Benchmark: our training step vs a plain reference loop written the way diffusers'
``train_dreambooth_lora.py`` does it (VAE-encode the batch and text-encode the prompt every
step), on the same SD1.5 model, data and LoRA. Ratio of steps/s from one run, the two loops
interleaved step by step so load from other processes hits both alike.

Default: the exact SD1.5 architecture with random weights (860 M UNet, 84 M VAE, CLIP-L;
~5 GB RAM, ~1 min per step on one core) at 256 px; ``--size tiny`` for the 64 px test model.

Run: .venv/bin/python bench/train_bench.py [--size full|tiny] [--resolution 256] [--steps 3]
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

from headshots.finetune import LoadedModel, TrainConfig  # noqa: E402
from headshots.finetune._data import LatentCache, load_images, step_generator  # noqa: E402
from headshots.finetune._model import encode_prompts  # noqa: E402
from headshots.finetune._step import StepContext  # noqa: E402
from headshots.testing.tiny_models import random_pipeline  # noqa: E402


def setup(tmp: Path, res: int, size: str):  # noqa: ANN201
    from diffusers import DDPMScheduler
    from peft import LoraConfig

    crops = tmp / "crops"
    crops.mkdir()
    for i, n in enumerate(["obama", "obama2", "obama3", "biden"]):
        with Image.open(ROOT / "tests" / "data" / f"{n}.jpg") as im:
            s = min(im.size)
            im.convert("RGB").crop((0, 0, s, s)).resize((res, res)).save(crops / f"{i}.png")
    model = LoadedModel(random_pipeline("sd15", size), "sd15", f"random sd15 ({size})")
    for m in (model.pipe.unet, model.pipe.vae, model.pipe.text_encoder):
        m.requires_grad_(False)
    torch.manual_seed(0)
    model.pipe.unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights="gaussian",
                                           target_modules=["to_k", "to_q", "to_v", "to_out.0"]))
    sched = DDPMScheduler.from_config(model.pipe.scheduler.config)
    return model, load_images(crops, res), sched


class Ours:
    def __init__(self, model, images, sched, cfg) -> None:  # noqa: ANN001
        dev = torch.device("cpu")
        with torch.no_grad():
            text = encode_prompts(model, [cfg.instance_prompt()], dev)
        cache = LatentCache.encode(model.pipe.vae, images.pixels, images.time_ids, dev)
        self.ctx = StepContext(model, cfg, sched, images, cache, text, None, dev, cfg.resolution)
        params = [p for p in model.pipe.unet.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(params, lr=1e-4)

    def step(self, step: int) -> float:
        t0 = time.perf_counter()
        self.ctx.loss(step_generator(0, step)).backward()
        self.opt.step()
        self.opt.zero_grad()
        return time.perf_counter() - t0


class Reference:
    def __init__(self, model, images, sched, cfg) -> None:  # noqa: ANN001
        self.pipe, self.images, self.sched, self.cfg = model.pipe, images.pixels, sched, cfg
        params = [p for p in self.pipe.unet.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(params, lr=1e-4)

    def step(self, step: int) -> float:
        pipe, images, sched = self.pipe, self.images, self.sched
        t0 = time.perf_counter()
        g = step_generator(0, step)
        idx = torch.randint(0, len(images), (1,), generator=g)
        with torch.no_grad():
            latents = pipe.vae.encode(images[idx]).latent_dist.sample() * \
                pipe.vae.config.scaling_factor
            ids = pipe.tokenizer([self.cfg.instance_prompt()], padding="max_length",
                                 max_length=77, truncation=True, return_tensors="pt").input_ids
            emb = pipe.text_encoder(ids)[0]
        noise = torch.randn(latents.shape, generator=g)
        t = torch.randint(0, sched.config.num_train_timesteps, (1,), generator=g)
        pred = pipe.unet(sched.add_noise(latents, noise, t), t, encoder_hidden_states=emb).sample
        F.mse_loss(pred, noise).backward()
        self.opt.step()
        self.opt.zero_grad()
        return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=["full", "tiny"], default="full")
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        model, images, sched = setup(Path(tmp), args.resolution, args.size)
        built = time.perf_counter() - t0
        cfg = TrainConfig(resolution=args.resolution, flip=True)
        t0 = time.perf_counter()
        ours = Ours(model, images, sched, cfg)
        cache_s = time.perf_counter() - t0
        ref = Reference(model, images, sched, cfg)
        ours.step(0)  # warm up
        ref.step(0)
        a = b = 0.0
        for step in range(1, args.steps + 1):  # interleaved
            a += ours.step(step)
            b += ref.step(step)
    print(f"{args.size} SD1.5 at {args.resolution} px, {len(images)} images, {args.steps} "
          f"steps each (interleaved, after one warm-up), {args.threads} thread(s); model built "
          f"in {built:.0f} s")
    print(f"one-off cost of ours: VAE latents (+ mirrors) and prompt cached in {cache_s:.1f} s")
    print(f"ours (cached latents + prompt): {a / args.steps:.2f} s/step")
    print(f"reference (encode every step):  {b / args.steps:.2f} s/step")
    print(f"ratio: ours is {b / a:.2f}x the reference's speed")


if __name__ == "__main__":
    main()
