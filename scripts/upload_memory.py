"""Measure what big uploads cost the API process: a 150 MB CSV is taken in
with flat memory, and an NPZ that would inflate to 1 GB is refused at once.

    .venv/bin/python scripts/upload_memory.py [--megabytes 150]

Starts its own service (embedded default) on a free loopback port in a
temporary folder, and prints the API process's resident memory growth.
"""

import argparse
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class PeakWatch:
    """Samples a process's resident memory every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.stop = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> "PeakWatch":
        self.before = rss_bytes(self.pid)
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / 1e6


def write_csv(path: Path, megabytes: int) -> int:
    rng = np.random.default_rng(0)
    columns = 20
    header = ",".join(f"f{i}" for i in range(columns)) + ",label\n"
    with path.open("w") as out:
        out.write(header)
        rows = 0
        while out.tell() < megabytes * 1_000_000:
            block = rng.normal(size=(10_000, columns))
            labels = np.where(block[:, 0] > 0, "yes", "no")
            lines = [
                ",".join(f"{v:.6f}" for v in row) + f",{label}\n"
                for row, label in zip(block, labels, strict=True)
            ]
            out.writelines(lines)
            rows += len(lines)
    return rows


def inflating_npz() -> bytes:
    """x.npy: 1 GB of zeros deflated to about a megabyte, and a small y."""
    header = io.BytesIO()
    rows = 125_000_000  # 125e6 float64 = 1 GB
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (rows, 1)}
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("x.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            zeros = bytes(16 * 1024 * 1024)
            for _ in range(rows * 8 // len(zeros)):
                member.write(zeros)
        y = io.BytesIO()
        np.save(y, np.zeros(rows, dtype=np.int8)[:2])
        zf.writestr("y.npy", y.getvalue())
    return archive.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {**os.environ, "DESCENT_DATA_DIR": folder, "DESCENT_PORT": str(port)}
        log = open(Path(folder) / "service.log", "wb")  # noqa: SIM115
        service = subprocess.Popen(
            [sys.executable, "-m", "api.launch"], cwd=ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            csv_path = Path(folder) / "big.csv"
            rows = write_csv(csv_path, args.megabytes)
            size = csv_path.stat().st_size
            with PeakWatch(service.pid) as watch, csv_path.open("rb") as handle:
                started = time.perf_counter()
                response = httpx.post(
                    f"{url}/v1/datasets",
                    files={"file": ("big.csv", handle, "text/csv")},
                    data={"name": "big", "target": "label"},
                    timeout=600,
                )
                seconds = time.perf_counter() - started
            print(
                f"csv upload: {size / 1e6:.0f} MB, {rows} rows -> "
                f"{response.status_code} in {seconds:.1f} s; API process memory "
                f"grew {watch.growth_mb:.1f} MB at peak "
                f"(from {watch.before / 1e6:.0f} MB)"
            )
            blob = inflating_npz()
            with PeakWatch(service.pid) as watch:
                started = time.perf_counter()
                response = httpx.post(
                    f"{url}/v1/datasets",
                    files={"file": ("bomb.npz", blob, "application/octet-stream")},
                    data={"name": "bomb", "target": "y"},
                    timeout=60,
                )
                seconds = time.perf_counter() - started
            print(
                f"npz declaring 1 GB, {len(blob) / 1e6:.1f} MB on disk -> "
                f"{response.status_code} in {seconds * 1000:.0f} ms; memory grew "
                f"{watch.growth_mb:.1f} MB; {response.json()['detail']}"
            )
        finally:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(service.pid, signal.SIGKILL)
                service.wait()
            log.close()


if __name__ == "__main__":
    main()
