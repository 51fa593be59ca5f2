"""The benchmark's cases: train each contender, predict with each, measure memory.

Each case prints its own table (see report.py) and returns what the goals
are judged on.
"""

from dataclasses import dataclass, field

import ceiling
import contenders
import numpy as np
from contenders import DESCENT, SKLEARN, TORCH_DEFAULT, TORCH_FUSED
from measure import OtherLoad, median, peak_allocated
from report import print_prediction, print_training


@dataclass
class TrainingResult:
    """Seconds per run (median) and last-epoch loss for each contender."""

    title: str
    samples: int  # rows x epochs, per run
    seconds: dict[str, float]
    losses: dict[str, float]
    ceilings: dict[str, float]  # GEMM-only seconds per run, by BLAS
    other_load: float | None
    trained: dict[str, object] = field(default_factory=dict)
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def speed(self, name: str) -> float:
        return self.samples / self.seconds[name]

    def share(self, name: str) -> float:
        return min(self.ceilings.values()) / self.seconds[name]


def training_case(title, x, y, sizes, batch, epochs, device, repeats, timer):
    """Train every contender ``repeats`` times in turn; print the table."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    standardized = ((x - mean) / scale).astype(np.float32)
    runs = {
        DESCENT: contenders.descent_training(x, y, sizes, batch, epochs, device),
        TORCH_FUSED: contenders.torch_training(
            standardized, y, sizes, batch, epochs, True, device
        ),
        TORCH_DEFAULT: contenders.torch_training(
            standardized, y, sizes, batch, epochs, False, device
        ),
    }
    if device == "cpu":
        runs[SKLEARN] = contenders.sklearn_training(
            standardized, y, sizes, batch, epochs
        )
    last = {}
    timed_runs = {name: _keeping(run, name, last) for name, run in runs.items()}
    blas = ("numpy", "torch") if device == "cpu" else ("cupy", "torch-cuda")
    for name in blas:
        timed_runs[name] = ceiling.products(name, sizes, batch, len(x), epochs)
    with OtherLoad() as load:
        seconds = timer.interleaved(timed_runs, repeats)
    medians = {name: median(values) for name, values in seconds.items()}
    result = TrainingResult(
        title,
        len(x) * epochs,
        {name: medians[name] for name in runs},
        {name: trained.loss for name, trained in last.items()},
        {name: medians[name] for name in blas},
        load.share,
        {name: trained.model for name, trained in last.items()},
        mean.astype(np.float32),
        scale.astype(np.float32),
    )
    print_training(result)
    return result


def inference_case(trained: TrainingResult, x, label: str, timer, repeats=5):
    """Median microseconds to predict 1 row and 1,024 rows; print the table."""
    models, mean, scale = trained.trained, trained.mean, trained.scale
    predictors = {
        "Descent Model.predict (loaded)": contenders.descent_predictor(models[DESCENT]),
        "plain NumPy forward": contenders.numpy_predictor(models[DESCENT]),
        "PyTorch, inference_mode": contenders.torch_predictor(
            models[TORCH_FUSED], mean, scale
        ),
    }
    if SKLEARN in models:
        predictors["scikit-learn predict_proba"] = contenders.sklearn_predictor(
            models[SKLEARN], mean, scale
        )
    one, many = x[:1].copy(), x[:1024].copy()
    with OtherLoad() as load:
        single = timer.interleaved(
            {name: _bind(p, one) for name, p in predictors.items()}, repeats, 200
        )
        batch = timer.interleaved(
            {name: _bind(p, many) for name, p in predictors.items()}, repeats, 5
        )
    rows = {
        name: (median(single[name]) * 1e6, median(batch[name]) * 1e3)
        for name in predictors
    }
    print_prediction(label, rows, load.share)
    return rows


def memory_case(x, y, sizes, batch):
    """Peak bytes ``fit`` allocates for one epoch, against data and parameters."""
    run = contenders.descent_training(x, y, sizes, batch, 1)
    kept = {}
    peak = peak_allocated(lambda: kept.setdefault("trained", run()))
    model = kept["trained"].model
    params = sum(array.nbytes for array in model.network.params().values())
    data = x.nbytes + y.nbytes
    print("== Memory of one Descent training run (tracemalloc) ==")
    print(
        f"data {data / 1e6:.1f} MB + parameters {params / 1e6:.1f} MB; peak "
        f"allocated by fit {peak / 1e6:.1f} MB = {peak / (data + params):.2f}x "
        "their size (the caller's arrays are not counted)"
    )
    print()
    return peak / (data + params)


def _keeping(run, name, last):
    def wrapped():
        last[name] = run()

    return wrapped


def _bind(predict, rows):
    return lambda: predict(rows)
