import numpy as np
import pytest
from gradcheck import dense_spec
from torch_twin import torch_grads, torch_twin

from core.activations import ACTIVATIONS
from core.backend import to_numpy
from core.config import FitConfig
from core.losses import make_loss
from core.network import build_network, numpy_copy

pytestmark = pytest.mark.torch


def _torch_loss(torch, config):
    nn, options = torch.nn, config.loss_options
    if config.loss == "cross_entropy":
        weight = options.class_weights
        return nn.CrossEntropyLoss(
            weight=None
            if weight is None
            else torch.tensor(weight, dtype=torch.float64),
            label_smoothing=options.label_smoothing,
        )
    return {
        "binary_cross_entropy": nn.BCEWithLogitsLoss(),
        "mse": nn.MSELoss(),
        "mae": nn.L1Loss(),
        "huber": nn.HuberLoss(delta=options.delta),
    }[config.loss]


def compare(spec, n_features=4, n_rows=9, seed=0, xp=np):
    """Scores, loss and gradients of one batch against PyTorch's, on ``xp``."""
    torch = pytest.importorskip("torch")
    config = FitConfig.from_dict({**spec, "dtype": "float64"})
    network = build_network(config, n_features, np.random.default_rng(seed), xp=xp)
    rng = np.random.default_rng(seed + 1)
    x = rng.normal(size=(n_rows, n_features))
    last_units = config.network.layers[-1].units
    if config.loss == "cross_entropy":
        target = rng.integers(0, last_units, size=n_rows)
    elif config.loss == "binary_cross_entropy":
        target = rng.integers(0, 2, size=(n_rows, 1)) * 1.0
    else:
        target = rng.normal(size=(n_rows, last_units))
    target_t = torch.tensor(target)
    loss = make_loss(config.loss, config.loss_options, np.float64, xp)

    scores = to_numpy(network.forward(xp.asarray(x), training=True))
    value = loss.forward(xp.asarray(scores), xp.asarray(target))
    network.backward(loss.backward())
    grads = {name: to_numpy(grad) for name, grad in network.grads().items()}
    if xp is not np:
        network = numpy_copy(network, config, n_features)

    twin = torch_twin(torch, network, config)
    twin.train()
    x_t = torch.tensor(x, requires_grad=True)
    scores_t = twin(x_t)
    value_t = _torch_loss(torch, config)(scores_t, target_t)
    value_t.backward()

    np.testing.assert_allclose(scores, scores_t.detach().numpy(), rtol=1e-6, atol=1e-12)
    assert value == pytest.approx(value_t.item(), rel=1e-6)
    expected = torch_grads(twin, config)
    for name, grad in grads.items():
        np.testing.assert_allclose(
            grad, expected[name], rtol=1e-6, atol=1e-10, err_msg=name
        )


ACTIVATION_SETTINGS = [
    {"units": 6, "activation": "leaky_relu", "negative_slope": 0.2},
    {"units": 6, "activation": "elu", "alpha": 0.5},
]
LOSS_CASES = [
    ("cross_entropy", (3, "softmax"), {}),
    ("binary_cross_entropy", (1, "sigmoid"), {}),
    ("mse", (2, "linear"), {}),
    ("mse", (1, "tanh"), {}),
    ("mae", (1, "linear"), {}),
    ("huber", (1, "linear"), {"delta": 0.5}),
    ("cross_entropy", (3, "softmax"), {"label_smoothing": 0.15}),
    ("cross_entropy", (3, "softmax"), {"class_weights": [0.2, 1.0, 3.0]}),
    (
        "cross_entropy",
        (3, "softmax"),
        {"class_weights": [2.0, 0.5, 1.0], "label_smoothing": 0.3},
    ),
]


def activation_spec(activation):
    return dense_spec((6, activation), (5, "tanh"), (3, "softmax"))


def setting_spec(layer):
    return {"network": {"layers": [layer, {"units": 3, "activation": "softmax"}]}}


def loss_spec(loss, last, options):
    task = "classification" if loss.endswith("cross_entropy") else "regression"
    return dense_spec((6, "relu"), last, task=task, loss={"name": loss, **options})


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_forward_and_gradients_match_torch_for_each_activation(activation):
    # Each hidden activation: scores, loss and every gradient equal nn.Sequential's.
    compare(activation_spec(activation))


@pytest.mark.parametrize("layer", ACTIVATION_SETTINGS)
def test_activation_settings_match_torch(layer):
    # leaky_relu's negative_slope and elu's alpha mean what they mean in torch.
    compare(setting_spec(layer))


@pytest.mark.parametrize("loss, last, options", LOSS_CASES)
def test_forward_and_gradients_match_torch_for_each_loss(loss, last, options):
    # Each loss (fused where it should be): values and gradients equal PyTorch's.
    compare(loss_spec(loss, last, options))
