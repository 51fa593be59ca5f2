"""Training and prediction speed: Descent's core against PyTorch and scikit-learn.

    .venv/bin/python benchmarks/train_speed.py [--device gpu] [--repeats 5]
        [--max-busy 0.03] [--patience 1800]

Trains the same networks in one run with each contender and prints samples
per second, Descent's ratio to each, and each one's share of the GEMM-only
ceiling (see ceiling.py); then one-row and 1,024-row prediction, and the peak
memory of a Descent training run. Figures are medians over repeats after a
warm-up, contenders taking turns; a measurement during which other processes
kept more than --max-busy of the CPUs busy is thrown away and taken again
(measure.py). The cases:

- 784-512-256-10 relu, batch 128, Adam, float32, 60,000 synthetic rows, 1 epoch
- 64-128-64-10 relu on scikit-learn's digits (1,797 rows), batch 32, 20 epochs
- prediction of 1 and 1,024 rows with the first case's trained models

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which this machine may set for older
OpenBLAS builds, slow a current NumPy; the benchmark restarts itself once
without them (that process only) unless --keep-blas-env is given, and prints
the BLAS kernel it runs. With --device gpu, Descent trains with CuPy and
PyTorch on CUDA, and the prediction and scikit-learn rows are left out.
"""

import os
import sys

BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if "--keep-blas-env" not in sys.argv and any(k in os.environ for k in BLAS_ENV):
    removed = ", ".join(f"{k}={os.environ[k]}" for k in BLAS_ENV if k in os.environ)
    env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV}
    env["DESCENT_BENCH_REMOVED"] = removed
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse  # noqa: E402
import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from cases import inference_case, memory_case, training_case  # noqa: E402
from measure import Timer, machine_lines  # noqa: E402
from report import Goals  # noqa: E402

LARGE = (784, 512, 256, 10)
SMALL = (64, 128, 64, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep-blas-env", action="store_true")
    parser.add_argument(
        "--max-busy",
        type=float,
        default=0.03,
        metavar="SHARE",
        help="redo a measurement if other processes used more than this share "
        "of the CPUs meanwhile (default 0.03; 1 keeps everything)",
    )
    parser.add_argument(
        "--patience",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="the most time to spend redoing disturbed measurements",
    )
    args = parser.parse_args()
    timer = Timer(args.max_busy if args.max_busy < 1 else None, patience=args.patience)

    import torch

    if args.device == "gpu" and not torch.cuda.is_available():
        sys.exit("--device gpu needs PyTorch built with CUDA and a visible GPU")
    torch.set_num_threads(os.cpu_count() or 1)
    print(f"Descent speed benchmark, {datetime.date.today()}, device {args.device}")
    for line in machine_lines():
        print(line)
    print(f"torch threads: {torch.get_num_threads()}, {_torch_blas(torch)}")
    removed = os.environ.get("DESCENT_BENCH_REMOVED")
    if removed:
        print(f"unset for this run: {removed}")
    print()

    goals = Goals(args.device)
    x, y = synthetic_rows(60_000, LARGE[0], LARGE[-1])
    large = training_case(
        "784-512-256-10 relu, batch 128, Adam, float32, 60,000 synthetic rows, 1 epoch",
        x,
        y,
        LARGE,
        batch=128,
        epochs=1,
        device=args.device,
        repeats=args.repeats,
        timer=timer,
    )
    goals.training("large", large)

    from sklearn.datasets import load_digits

    digits_x, digits_y = load_digits(return_X_y=True)
    small = training_case(
        "64-128-64-10 relu on digits (1,797 rows), batch 32, Adam, float32, 20 epochs",
        digits_x.astype(np.float32),
        digits_y,
        SMALL,
        batch=32,
        epochs=20,
        device=args.device,
        repeats=args.repeats + 2,
        timer=timer,
    )
    goals.training("small", small)

    if args.device == "cpu":
        goals.prediction(inference_case(large, x, "784-512-256-10", timer))
        inference_case(small, digits_x.astype(np.float32), "64-128-64-10", timer)
        goals.memory(memory_case(x, y, LARGE, batch=128))
    print(f"Noise: {timer.note()}.")
    print()
    goals.print()


def _torch_blas(torch) -> str:
    # PyTorch's wheels carry their own BLAS (MKL on x86): its products can be
    # faster or slower than NumPy's OpenBLAS on the same machine.
    for item in torch.__config__.show().replace(",", " ").split():
        if item.startswith("BLAS_INFO="):
            return f"BLAS {item.split('=', 1)[1]}"
    return "BLAS unknown"


def synthetic_rows(n_rows: int, n_features: int, n_classes: int, seed: int = 0):
    """Gaussian rows labelled by a random linear teacher (so there is signal)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    teacher = rng.standard_normal((n_features, n_classes), dtype=np.float32)
    return x, (x @ teacher).argmax(axis=1)


if __name__ == "__main__":
    main()
