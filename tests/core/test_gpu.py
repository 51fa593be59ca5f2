"""The PyTorch comparisons again, with the core computing on CuPy arrays.

Run with ``pytest -m gpu tests/core`` on a machine with CuPy and a CUDA
device (``scripts/gpu_check`` does it); elsewhere every test here is skipped,
saying why. Tolerances are the CPU tests' (float64, rtol 1e-6).
"""

import numpy as np
import pytest
from gradcheck import blobs, dense_spec
from test_optimizers import TORCH_CASES, _setup, _torch_pair
from test_torch_parity import (
    ACTIVATION_SETTINGS,
    LOSS_CASES,
    activation_spec,
    compare,
    loss_spec,
    setting_spec,
)
from test_torch_training import CASES, compare_training

from core import FitConfig, fit
from core.activations import ACTIVATIONS
from core.backend import to_numpy

pytestmark = [pytest.mark.gpu, pytest.mark.torch]


@pytest.fixture(scope="module")
def cupy():
    try:
        import cupy
    except ImportError as exc:
        pytest.skip(f"cupy cannot be imported ({exc}); pip install .[gpu]")
    try:
        devices = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as exc:
        pytest.skip(f"CuPy finds no CUDA device ({exc})")
    if devices < 1:
        pytest.skip("CuPy finds no CUDA device")
    return cupy


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_each_activation_matches_torch_on_gpu(cupy, activation):
    # Scores, loss and every gradient equal nn.Sequential's, computed by CuPy.
    compare(activation_spec(activation), xp=cupy)


@pytest.mark.parametrize("layer", ACTIVATION_SETTINGS)
def test_activation_settings_match_torch_on_gpu(cupy, layer):
    # negative_slope and alpha behave as on the CPU.
    compare(setting_spec(layer), xp=cupy)


@pytest.mark.parametrize("loss, last, options", LOSS_CASES)
def test_each_loss_matches_torch_on_gpu(cupy, loss, last, options):
    # The fused losses, weights and smoothing included, on CuPy.
    compare(loss_spec(loss, last, options), xp=cupy)


@pytest.mark.parametrize("name, make, options", TORCH_CASES)
def test_optimizer_matches_torch_on_gpu(cupy, name, make, options):
    # Each optimizer's 20 steps on CuPy arrays equal torch.optim's.
    torch = pytest.importorskip("torch")
    params, grads, steps = _setup()
    params_t = [torch.tensor(p.copy(), requires_grad=True) for p in params.values()]
    params = {k: cupy.asarray(p) for k, p in params.items()}
    grads = {k: cupy.asarray(g) for k, g in grads.items()}
    ours = make(params, grads)
    theirs = _torch_pair(name, torch, params_t, options)
    for step in steps:
        for (key, g), p_t in zip(step.items(), params_t, strict=True):
            grads[key][...] = cupy.asarray(g)
            p_t.grad = torch.tensor(g)
        ours.step()
        theirs.step()
    for p, p_t in zip(params.values(), params_t, strict=True):
        np.testing.assert_allclose(
            to_numpy(p), p_t.detach().numpy(), rtol=1e-6, atol=1e-12
        )


@pytest.mark.parametrize("optimizer, schedule, penalty, clip, layers", CASES)
def test_twenty_full_batch_steps_match_torch_on_gpu(
    cupy, optimizer, schedule, penalty, clip, layers
):
    # fit on device "gpu" against the PyTorch loop. A dense bias just before
    # batch norm has an exactly zero gradient, so it moves only by rounding
    # noise times lr / epsilon (about 1e-11 a step); another BLAS rounds
    # differently, hence atol 1e-8 where the CPU test has 1e-9.
    compare_training(optimizer, schedule, penalty, clip, layers, "gpu", atol=1e-8)


def test_gpu_run_agrees_with_cpu_run(cupy):
    # The same seeded run on both devices, float64: same weights to 1e-9 and
    # a NumPy model back from the GPU.
    x, y = blobs(n_per_class=40)
    spec = dense_spec(
        (16, "relu"), (3, "softmax"), dtype="float64", training={"epochs": 5}
    )
    cpu = fit(x, y, FitConfig.from_dict(spec))
    gpu = fit(x, y, FitConfig.from_dict({**spec, "device": "gpu"}))
    for name, array in cpu.model.network.state().items():
        other = gpu.model.network.state()[name]
        assert type(other) is np.ndarray
        np.testing.assert_allclose(other, array, rtol=1e-9, atol=1e-12)
    assert gpu.model.predict(x[:3]).predictions == cpu.model.predict(x[:3]).predictions
