"""Timing, memory and machine facts for the speed benchmark.

Every figure is a median over repeats after warm-up runs, the contenders
taking turns. ``OtherLoad`` reads how busy other processes kept the CPUs
(from /proc/stat): on a shared machine a burst of someone else's work stalls
a two-thread BLAS far more than its share, so ``Timer`` throws away a
measurement that other processes disturbed (more than ``max_busy`` of the
CPUs) and takes it again once the machine is quiet, and counts how often.
"""

import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

# /proc/stat counts in 10 ms ticks: a measured block lasts at least this long.
BLOCK_SECONDS = 0.5


def median(seconds: list[float]) -> float:
    return statistics.median(seconds)


class Timer:
    """Times contenders in turn, redoing blocks that other processes disturbed.

    Parameters
    ----------
    max_busy : float or None
        Share of all CPUs other processes may use during a block; None keeps
        every block.
    retries : int
        Attempts per block before one is kept although disturbed.
    patience : float
        Seconds the whole run may spend redoing and waiting; past them every
        block is kept (and counted as disturbed if it was).
    """

    def __init__(self, max_busy=0.03, retries: int = 10, patience=1800.0) -> None:
        self.max_busy, self.retries = max_busy, retries
        self.deadline = time.monotonic() + patience
        self.discarded = 0  # blocks thrown away and taken again
        self.disturbed = 0  # blocks kept although disturbed

    def interleaved(
        self, runs: dict[str, Callable[[], object]], repeats: int, warmup: int = 1
    ) -> dict[str, list[float]]:
        """Seconds per call of each run: ``repeats`` blocks each, in turn.

        A block is one call, or as many calls as fill ``BLOCK_SECONDS``.
        """
        calls = {}
        for name, run in runs.items():
            started = time.perf_counter()
            for _ in range(warmup):
                run()
            each = (time.perf_counter() - started) / max(warmup, 1)
            calls[name] = max(1, int(BLOCK_SECONDS / max(each, 1e-9)))
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(repeats):
            for name, run in runs.items():
                seconds[name] += self._block(run, calls[name])
        return seconds

    def _block(self, run, calls: int) -> list[float]:
        for _ in range(self.retries):
            times = []
            with OtherLoad() as load:
                for _ in range(calls):
                    started = time.perf_counter()
                    run()
                    times.append(time.perf_counter() - started)
            quiet = self.max_busy is None or load.share is None
            if quiet or load.share <= self.max_busy:
                return times
            if time.monotonic() > self.deadline:
                break
            self.discarded += 1
            wait_for_quiet(30, self.max_busy)
        self.disturbed += 1
        return times

    def note(self) -> str:
        """What was thrown away, for the table."""
        if self.max_busy is None:
            return "no measurement was discarded (--max-busy off)"
        return (
            f"{self.discarded} blocks discarded and redone because other "
            f"processes used over {self.max_busy:.0%} of the CPUs, "
            f"{self.disturbed} kept although disturbed"
        )


def peak_allocated(run: Callable[[], object]) -> int:
    """Peak bytes allocated through Python's allocators (NumPy's included)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class OtherLoad:
    """CPU time other processes took while the block ran, as a share of all.

    Linux only (``/proc/stat``); elsewhere ``share`` stays None.
    """

    def __enter__(self) -> "OtherLoad":
        self.share = None
        self._start = _busy_ticks(), _own_seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        busy0, own0, wall0 = self._start
        busy1 = _busy_ticks()
        if busy0 is None or busy1 is None:
            return
        ticks = os.sysconf("SC_CLK_TCK")
        wall = time.perf_counter() - wall0
        others = (busy1 - busy0) / ticks - (_own_seconds() - own0)
        self.share = max(0.0, others) / (wall * (os.cpu_count() or 1))


def wait_for_quiet(max_seconds: float, busy_share: float = 0.1) -> float | None:
    """Wait until the CPUs sit idle (under ``busy_share`` busy for a second).

    Returns the busy share last seen, or None where /proc/stat is missing.
    """
    deadline = time.monotonic() + max_seconds
    while True:
        with OtherLoad() as load:
            time.sleep(1.0)
        if load.share is None or load.share < busy_share:
            return load.share
        if time.monotonic() > deadline:
            return load.share


def _busy_ticks() -> int | None:
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields[:8]) - idle


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def machine_lines() -> list[str]:
    """What ran the benchmark: CPU, cores, versions and the BLAS kernels."""
    lines = [
        f"machine: {_cpu_model()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}",
        f"caches: {_caches()}",
        f"python {platform.python_version()}, numpy {np.__version__}"
        + _version("torch")
        + _version("sklearn", "scikit-learn"),
    ]
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [*lines, "BLAS: threadpoolctl is not installed"]
    for pool in threadpool_info():
        if pool.get("user_api") != "blas":
            continue
        lines.append(
            f"BLAS: {pool.get('internal_api')} {pool.get('version')}, kernel "
            f"{pool.get('architecture')}, {pool.get('num_threads')} threads "
            f"({_library(pool['filepath'])})"
        )
    return lines


def _library(path: str) -> str:
    # numpy.libs/..., scipy.libs/...: says whose copy of the library it is.
    return os.path.join(*path.split(os.sep)[-2:])


def _caches() -> str:
    # Data and unified caches of the first CPU, from Linux's sysfs: whether
    # 2.1 MB of weights fit a core's L2 decides the one-row prediction.
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    found = []
    try:
        for folder in sorted(base.glob("index*")):
            if (folder / "type").read_text().strip() != "Instruction":
                level = (folder / "level").read_text().strip()
                found.append(f"L{level} {(folder / 'size').read_text().strip()}")
    except OSError:
        pass
    return ", ".join(found) or "unknown"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(module: str, label: str | None = None) -> str:
    try:
        imported = __import__(module)
    except ImportError:
        return f", {label or module} not installed"
    return f", {label or module} {imported.__version__}"
