"""Benchmark: photo upload latency through a real `headshots serve` (uvicorn on loopback).

Run: .venv/bin/python bench/api_upload_bench.py
Starts the server in a child process on 127.0.0.1 (SQLite and blobs in a temporary folder),
makes an account, then times POST /api/v1/orders/{id}/photos (decode, re-encode, face check,
encryption, database) for the test photos:

- one at a time (20 uploads in a row): the baseline;
- 20 concurrent uploads from 20 people (one order each);
- 20 concurrent uploads from one person (one order).

Prints p50 / p95 / max per scenario and the throughput ratio to the baseline, in one run.
Traffic goes to the loopback address only; the run is bounded (60 uploads) and stops itself.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from headshots.api._accounts import AccountService  # noqa: E402
from headshots.config import Settings  # noqa: E402
from headshots.orders import CONSENT_VERSION  # noqa: E402
from headshots.store import Store  # noqa: E402

PHOTOS = [(ROOT / "tests" / "data" / f"{n}.jpg").read_bytes()
          for n in ("obama", "obama2", "obama3", "biden")]
N = 20


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def upload(client: httpx.AsyncClient, order_id: str, i: int) -> float:
    t0 = time.perf_counter()
    r = await client.post(f"/orders/{order_id}/photos",
                          files={"file": (f"p{i}.jpg", PHOTOS[i % len(PHOTOS)], "image/jpeg")})
    assert r.status_code == 201, r.text
    return time.perf_counter() - t0


async def scenario(client: httpx.AsyncClient, orders: list[str], concurrent: bool, n: int
                   ) -> tuple[list[float], float]:
    t0 = time.perf_counter()
    if concurrent:
        times = list(await asyncio.gather(*(upload(client, orders[i % len(orders)], i)
                                            for i in range(n))))
    else:
        times = [await upload(client, orders[0], i) for i in range(n)]
    return times, time.perf_counter() - t0


async def run_scenarios(url: str, token: str, n: int) -> dict[str, tuple[list[float], float]]:
    async with httpx.AsyncClient(base_url=f"{url}/api/v1", timeout=300,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        async def orders(k: int) -> list[str]:
            out = []
            for _ in range(k):
                r = await client.post("/orders", json={"consent_version": CONSENT_VERSION})
                out.append(r.json()["id"])
            return out

        await upload(client, (await orders(1))[0], 0)  # warm-up: models load once
        return {
            f"one at a time ({n} in a row)": await scenario(client, await orders(1), False, n),
            f"{n} concurrent, {n} people (one order each)":
                await scenario(client, await orders(n), True, n),
            f"{n} concurrent, one person (one order)":
                await scenario(client, await orders(1), True, n),
        }


def measure(n: int = N) -> dict[str, tuple[list[float], float]]:
    """Start a real server, make an account, run the three scenarios; stop the server."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HEADSHOTS_DATA_DIR": str(data),
               "HEADSHOTS_SERVICE__BASE_MODELS": '{"none": "unused-by-uploads"}',
               "HEADSHOTS_SERVICE__UPLOADS_PER_MINUTE": "1000", "OMP_NUM_THREADS": "1"}
        for name in [k for k in env if k.startswith("HEADSHOTS_") and k not in (
                "HEADSHOTS_DATA_DIR", "HEADSHOTS_SERVICE__BASE_MODELS",
                "HEADSHOTS_SERVICE__UPLOADS_PER_MINUTE", "HEADSHOTS_LOG")]:
            del env[name]  # the embedded default, whatever the caller's environment says
        settings = Settings(data_dir=data)
        store = Store(settings)
        accounts = AccountService(store)
        _, token = accounts.issue_token(account_id=accounts.create(email="bench@example.com",
                                                                   password=None).id)
        store.close()
        child = subprocess.Popen([sys.executable, "-m", "headshots", "serve", "--port", "0"],
                                 env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            url = line.split()[4]
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/api/v1/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            return asyncio.run(run_scenarios(url, token, n))
        finally:
            child.terminate()
            child.wait(timeout=60)


def markdown_section(quick: bool = False) -> str:
    n = 4 if quick else N
    results = measure(n)
    base = n / next(iter(results.values()))[1]
    rows = []
    for name, (times, wall) in results.items():
        rate = n / wall
        rows.append(f"| {name} | {statistics.median(times):.2f} s | {pct(times, 0.95):.2f} s | "
                    f"{max(times):.2f} s | {rate:.2f} | {rate / base:.2f}× |")
    table = "\n".join(rows)
    single = statistics.median(next(iter(results.values()))[0])
    crowd = pct(results[f"{n} concurrent, {n} people (one order each)"][0], 0.95)
    return f"""## Service: photo upload latency (`bench/api_upload_bench.py`)

A real `headshots serve` (uvicorn, SQLite and blobs in a temporary folder, in-process runner) on
127.0.0.1; `POST /api/v1/orders/{{id}}/photos` with the 0.05–0.2 MP test photos, each answer
including the photo's verdict and the whole set's status. One run, {3 * n} uploads after a
warm-up:

| scenario | p50 | p95 | max | uploads/s | vs one at a time |
|---|---|---|---|---|---|
{table}

Each upload is decoded, re-encoded, checked (face detection, mesh, dlib embedding) and stored
encrypted before it is answered. The face backend runs one image at a time per process (its
mediapipe graphs are not thread-safe), so concurrent uploads queue behind it: throughput rises
only a little (decoding, encryption and the database overlap) and latency grows with the queue
— p95 under {n} concurrent uploads is {crowd / single:.0f}× the single upload's p50. The event
loop stays free meanwhile (uploads run in the thread pool). More upload throughput means more
service processes (each loads its own backend) or a check worker pool; phone-size photos
(12 MP) add the decode measured in the intake section.
"""


def main() -> None:
    results = measure(N)
    base = N / next(iter(results.values()))[1]
    print(f"{'scenario':44} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'uploads/s':>10} "
          f"{'ratio':>6}")
    for name, (times, wall) in results.items():
        rate = N / wall
        print(f"{name:44} {statistics.median(times):7.2f} {pct(times, 0.95):7.2f} "
              f"{max(times):7.2f} {rate:10.2f} {rate / base:6.2f}")


if __name__ == "__main__":
    main()
