"""Load on the prediction path: many concurrent clients call predict for a
while, then the same against /healthz as the ceiling of this server.

    .venv/bin/python scripts/load_predict.py [--clients 200] [--seconds 60]

Starts its own service (embedded default) on a free loopback port, trains a
small iris model, and prints requests/s, p50/p99 latency and errors for both,
and their ratio. Traffic goes to 127.0.0.1 only, and stops by itself.
"""

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IRIS_ROW = [5.1, 3.5, 1.4, 0.2]


async def hammer(
    url: str, body: dict | None, clients: int, seconds: float
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                if body is None:
                    response = await http.get(url)
                else:
                    response = await http.post(url, json=body)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, errors


def report(name: str, elapsed: float, latencies: list[float], errors: int) -> float:
    rate = len(latencies) / elapsed
    p50, p99 = np.percentile(np.asarray(latencies) * 1000, [50, 99])
    print(
        f"{name}: {len(latencies)} requests in {elapsed:.1f} s = {rate:.0f} req/s, "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors {errors}"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {
            **os.environ,
            "DESCENT_DATA_DIR": folder,
            "DESCENT_PORT": str(port),
            "DESCENT_LOG_LEVEL": "WARNING",
        }
        service = subprocess.Popen(
            [sys.executable, "-m", "api.launch"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            http = httpx.Client(base_url=base, timeout=30)
            for _ in range(300):
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            job = http.post(
                "/v1/jobs",
                json={
                    "dataset": "iris",
                    "network": {
                        "layers": [
                            {"units": 16, "activation": "relu"},
                            {"units": 3, "activation": "softmax"},
                        ]
                    },
                    "loss": "cross_entropy",
                    "training": {"epochs": 20},
                },
            ).json()
            while (job := http.get(f"/v1/jobs/{job['id']}").json())["status"] in (
                "queued",
                "running",
            ):
                time.sleep(0.2)
            predict = f"{base}/v1/models/{job['model_id']}/predict"
            body = {"inputs": [IRIS_ROW]}
            print(f"{args.clients} clients for {args.seconds:.0f} s each, loopback")
            rate = report(
                "predict",
                *asyncio.run(hammer(predict, body, args.clients, args.seconds)),
            )
            ceiling = report(
                "healthz",
                *asyncio.run(
                    hammer(f"{base}/healthz", None, args.clients, args.seconds)
                ),
            )
            print(f"predict runs at {rate / ceiling:.0%} of the /healthz ceiling")
        finally:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(service.pid, signal.SIGKILL)
                service.wait()


if __name__ == "__main__":
    main()
