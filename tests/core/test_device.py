"""The GPU path of ``fit`` without a GPU: device selection, the host/device
boundary, and bitwise agreement with the CPU path (through ``fake_cupy``)."""

import subprocess
import sys

import fake_cupy
import numpy as np
import pytest
from gradcheck import blobs, dense_spec, linear_regression_data

from core import ConfigError, FitConfig, dumps, fit, loads
from core.backend import get_xp, to_numpy

SPECS = {
    "adam_relu": (
        dense_spec((16, "relu"), (8, "relu"), (3, "softmax"), training={"epochs": 4}),
        blobs,
    ),
    "sgd_regression": (
        dense_spec(
            (8, "tanh"),
            (1, "linear"),
            task="regression",
            loss="mse",
            optimizer={"name": "sgd", "learning_rate": 0.01, "momentum": 0.9},
            training={"epochs": 4, "batch_size": 16},
        ),
        linear_regression_data,
    ),
    "everything": (
        {
            "network": {
                "layers": [
                    {"type": "dense", "units": 12, "activation": "gelu"},
                    {"type": "batch_norm", "activation": "leaky_relu"},
                    {"type": "dropout", "rate": 0.3},
                    {"type": "dense", "units": 3, "activation": "softmax"},
                ]
            },
            "loss": {"name": "cross_entropy", "label_smoothing": 0.1},
            "optimizer": {"name": "adamw", "learning_rate": 0.01},
            "regularization": {"l1": 0.001, "l2": 0.001},
            "clip": {"norm": 1.0, "value": 0.5},
            "schedule": {"name": "reduce_on_plateau", "patience": 1},
            "early_stopping": {"patience": 3},
            "training": {"epochs": 6, "batch_size": 10, "test_split": 0.2},
        },
        blobs,
    ),
    "binary": (
        dense_spec(
            (6, "elu"),
            (1, "sigmoid"),
            loss="binary_cross_entropy",
            optimizer={"name": "rmsprop", "learning_rate": 0.01, "momentum": 0.5},
            training={"epochs": 3, "batch_size": 8},
        ),
        lambda: blobs(labels=("no", "yes")),
    ),
}


@pytest.fixture
def fake_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy.module())


def _without_durations(history):
    return [{k: v for k, v in h.items() if k != "duration_s"} for h in history]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_gpu_path_equals_cpu_path_bitwise(name, fake_gpu):
    # The same run on "gpu" (NumPy arithmetic behind the CuPy boundary) ends
    # with the same bits, history, test metrics and confusion matrix.
    spec, data = SPECS[name]
    x, y = data()
    cpu = fit(x, y, FitConfig.from_dict(spec))
    gpu = fit(x, y, FitConfig.from_dict({**spec, "device": "gpu"}))

    for key, array in cpu.model.network.state().items():
        assert type(gpu.model.network.state()[key]) is np.ndarray, key
        assert array.tobytes() == gpu.model.network.state()[key].tobytes(), key
    assert _without_durations(gpu.history) == _without_durations(cpu.history)
    assert gpu.test_metrics == cpu.test_metrics
    assert gpu.confusion_matrix == cpu.confusion_matrix


def test_gpu_model_is_numpy_end_to_end(fake_gpu):
    # The model crosses back at the boundary: dumps, loads and predict are NumPy.
    x, y = blobs()
    spec = dense_spec((8, "relu"), (3, "softmax"), device="gpu")
    result = fit(x, y, FitConfig.from_dict(spec))
    assert all(type(a) is np.ndarray for a in result.model.network.state().values())
    loaded = loads(dumps(result.model))
    prediction = loaded.predict(x[:5])
    assert type(prediction.probabilities) is np.ndarray
    assert prediction.predictions == result.model.predict(x[:5]).predictions


def test_gpu_checkpoint_resumes_on_cpu_bitwise(fake_gpu):
    # Checkpoints hold NumPy arrays: a run started on the GPU finishes on the
    # CPU with the same weights as one that never stopped.
    spec, data = SPECS["adam_relu"]
    x, y = data()
    whole = fit(x, y, FitConfig.from_dict(spec))
    saved = []

    def stop_after_two(report):
        if report.epoch == 2:
            saved.append(report.checkpoint())
            return True
        return False

    fit(x, y, FitConfig.from_dict({**spec, "device": "gpu"}), on_epoch=stop_after_two)
    resumed = fit(x, y, FitConfig.from_dict(spec), checkpoint=saved[0])
    for key, array in whole.model.network.state().items():
        assert array.tobytes() == resumed.model.network.state()[key].tobytes(), key


def test_fake_device_refuses_host_arrays(fake_gpu):
    # The stand-in enforces CuPy's rule, so the equality tests above mean
    # that no host array ever met a device array on the way.
    xp = get_xp("cupy")
    device = xp.asarray(np.ones(3))
    with pytest.raises(fake_cupy.HostArrayError):
        device + np.ones(3)
    with pytest.raises(fake_cupy.HostArrayError):
        xp.multiply(np.ones(3), 2.0)
    assert type(to_numpy(device * 2.0)) is np.ndarray


def test_gpu_without_cupy_names_the_package(monkeypatch):
    # No CuPy: a ConfigError on the device field that says what to install.
    monkeypatch.setitem(sys.modules, "cupy", None)
    x, y = blobs()
    spec = dense_spec((3, "softmax"), device="gpu")
    with pytest.raises(ConfigError, match=r"pip install \.\[gpu\]") as caught:
        fit(x, y, FitConfig.from_dict(spec))
    assert caught.value.field == "device"


def test_unknown_device_is_refused():
    # The device is validated with the rest of the configuration.
    config = FitConfig.from_dict(dense_spec((3, "softmax"), device="tpu"))
    with pytest.raises(ConfigError, match="device") as caught:
        config.validate(4, 3)
    assert caught.value.field == "device"


def test_importing_and_training_on_cpu_never_imports_cupy():
    # A process that forks (the worker's parent) must not initialise CUDA:
    # CuPy is imported only when a run asks for the GPU.
    script = (
        "import sys, numpy as np\n"
        "import core\n"
        "from core import FitConfig, fit\n"
        "x = np.random.default_rng(0).normal(size=(30, 3)); y = np.arange(30) % 3\n"
        "spec = {'network': {'layers': [{'units': 3, 'activation': 'softmax'}]},\n"
        "        'training': {'epochs': 1}}\n"
        "fit(x, y, FitConfig.from_dict(spec))\n"
        "print('cupy' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
