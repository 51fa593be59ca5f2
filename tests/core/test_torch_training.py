import math

import numpy as np
import pytest
from gradcheck import blobs
from torch_twin import torch_twin

from core import FitConfig, fit
from core.network import build_network

pytestmark = pytest.mark.torch

LAYERS = [
    {"type": "dense", "units": 6, "activation": "tanh"},
    {"type": "dense", "units": 3, "activation": "softmax"},
]
BN_LAYERS = [
    {"type": "dense", "units": 6},
    {"type": "batch_norm", "momentum": 0.2, "activation": "relu"},
    {"type": "dense", "units": 3, "activation": "softmax"},
]

CASES = [
    (
        {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
        {"name": "step", "step_size": 3, "gamma": 0.5},
        {"l2": 0.01},
        {},
        LAYERS,
    ),
    (
        {"name": "adam", "learning_rate": 0.05, "weight_decay": 0.01},
        {"name": "exponential", "gamma": 0.9},
        {"l1": 0.001},
        {"norm": 0.5},
        LAYERS,
    ),
    (
        {"name": "adamw", "learning_rate": 0.05, "weight_decay": 0.1},
        {"name": "cosine", "t_max": 8, "min_lr": 0.001},
        {},
        {"value": 0.05},
        LAYERS,
    ),
    (
        {"name": "rmsprop", "learning_rate": 0.01, "momentum": 0.5},
        {"name": "cosine", "t_max": 3, "restarts": True, "t_mult": 2},
        {"l1": 0.001, "l2": 0.001},
        {"norm": 1.0, "value": 0.2},
        LAYERS,
    ),
    (
        {"name": "adagrad", "learning_rate": 0.2},
        {"name": "reduce_on_plateau", "metric": "loss", "patience": 1, "factor": 0.5},
        {},
        {},
        LAYERS,
    ),
    ({"name": "adam", "learning_rate": 0.02}, {"name": "constant"}, {}, {}, BN_LAYERS),
]


def _torch_optimizer(torch, params, c):
    if c["name"] == "sgd":
        return torch.optim.SGD(
            params, c["learning_rate"], momentum=c["momentum"], nesterov=c["nesterov"]
        )
    if c["name"] == "adam":
        return torch.optim.Adam(
            params, c["learning_rate"], weight_decay=c["weight_decay"]
        )
    if c["name"] == "adamw":
        return torch.optim.AdamW(
            params, c["learning_rate"], weight_decay=c["weight_decay"]
        )
    if c["name"] == "rmsprop":
        return torch.optim.RMSprop(params, c["learning_rate"], momentum=c["momentum"])
    return torch.optim.Adagrad(params, c["learning_rate"], eps=1e-8)


def _torch_schedule(torch, optimizer, s):
    lr = torch.optim.lr_scheduler
    if s["name"] == "step":
        return lr.StepLR(optimizer, s["step_size"], s["gamma"])
    if s["name"] == "exponential":
        return lr.ExponentialLR(optimizer, s["gamma"])
    if s["name"] == "cosine" and s["restarts"]:
        return lr.CosineAnnealingWarmRestarts(
            optimizer, s["t_max"], s["t_mult"], s["min_lr"]
        )
    if s["name"] == "cosine":
        return lr.CosineAnnealingLR(optimizer, s["t_max"], s["min_lr"])
    if s["name"] == "reduce_on_plateau":
        return lr.ReduceLROnPlateau(
            optimizer, factor=s["factor"], patience=s["patience"]
        )
    return lr.ConstantLR(optimizer, factor=1.0)


@pytest.mark.parametrize("optimizer, schedule, penalty, clip, layers", CASES)
def test_twenty_full_batch_steps_match_torch(
    optimizer, schedule, penalty, clip, layers
):
    # fit's whole loop (loss, penalties, clipping, optimizer, schedule) against
    # a hand-written PyTorch loop: same weights after 20 steps, float64, rtol 1e-6.
    compare_training(optimizer, schedule, penalty, clip, layers)


def compare_training(
    optimizer, schedule, penalty, clip, layers, device="cpu", atol=1e-9
):
    """Run ``fit`` on ``device`` and the PyTorch loop; compare the weights."""
    torch = pytest.importorskip("torch")
    x, y = blobs(n_per_class=10, n_features=4, seed=3)
    spec = {
        "network": {"layers": layers},
        "optimizer": optimizer,
        "schedule": schedule,
        "regularization": penalty,
        "clip": clip,
        "dtype": "float64",
        "device": device,
        "training": {
            "epochs": 20,
            "batch_size": 1000,
            "validation_split": 0.0,
            "shuffle": False,
            "standardize": False,
        },
    }
    config = FitConfig.from_dict(spec)
    c, s = config.to_dict()["optimizer"], config.to_dict()["schedule"]
    s = {"min_lr": 0.0, "restarts": False, **s}
    # fit draws its initial weights from default_rng([seed, 1]).
    start = build_network(config, 4, np.random.default_rng([0, 1]))
    twin = torch_twin(torch, start, config)
    result = fit(x, y, config)

    linears = [m for m in twin if isinstance(m, torch.nn.Linear)]
    torch_opt = _torch_optimizer(torch, list(twin.parameters()), c)
    scheduler = _torch_schedule(torch, torch_opt, s)
    x_t, y_t = torch.tensor(x), torch.tensor(y)
    rates = []
    for _ in range(20):
        rates.append(torch_opt.param_groups[0]["lr"])
        torch_opt.zero_grad()
        loss = torch.nn.CrossEntropyLoss()(twin(x_t), y_t)
        for linear in linears:
            loss = loss + config.regularization.l1 * linear.weight.abs().sum()
            loss = loss + config.regularization.l2 * (linear.weight**2).sum()
        loss.backward()
        if config.clip.value is not None:
            torch.nn.utils.clip_grad_value_(twin.parameters(), config.clip.value)
        if config.clip.norm is not None:
            torch.nn.utils.clip_grad_norm_(twin.parameters(), config.clip.norm)
        torch_opt.step()
        if s["name"] == "reduce_on_plateau":
            scheduler.step(loss.item())
        else:
            scheduler.step()

    np.testing.assert_allclose([h["lr"] for h in result.history], rates, rtol=1e-9)
    ours = result.model.network
    for i, spec_layer in enumerate(layers):
        module = [m for m in twin if not isinstance(m, torch.nn.Tanh | torch.nn.ReLU)][
            i
        ]
        weight = module.weight.detach().numpy()
        weight = weight.T if spec_layer["type"] == "dense" else weight
        np.testing.assert_allclose(
            ours.params()[f"layers.{i}.weight"], weight, rtol=1e-6, atol=atol
        )
        np.testing.assert_allclose(
            ours.params()[f"layers.{i}.bias"],
            module.bias.detach().numpy(),
            rtol=1e-6,
            atol=atol,
        )
    assert math.isfinite(result.history[-1]["loss"])
