import numpy as np
import pytest
from gradcheck import blobs, linear_regression_data, numerical_gradient
from torch_twin import torch_grads, torch_twin

from core import FitConfig, fit
from core.layers import Dropout
from core.losses import make_loss
from core.network import build_network
from core.normalization import BatchNorm


def _batch_norm(rng, features=4):
    layer = BatchNorm(
        "layers.0", features, momentum=0.2, epsilon=1e-3, dtype=np.float64
    )
    layer.weight[...] = rng.normal(size=features)
    layer.bias[...] = rng.normal(size=features)
    layer.running_mean[...] = rng.normal(size=features)
    layer.running_var[...] = rng.uniform(0.5, 2.0, size=features)
    return layer


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients_match_finite_differences(training):
    # Batch norm's backward, through the batch statistics in training mode.
    rng = np.random.default_rng(0)
    layer = _batch_norm(rng)
    x, weights = rng.normal(size=(6, 4)) * 3 + 1, rng.normal(size=(6, 4))
    running = (layer.running_mean.copy(), layer.running_var.copy())

    def loss():
        layer.running_mean[...], layer.running_var[...] = running
        return float((layer.forward(x, training) * weights).sum())

    loss()
    delta = layer.backward(weights)
    grad_weight, grad_bias = layer.grad_weight.copy(), layer.grad_bias.copy()
    np.testing.assert_allclose(delta, numerical_gradient(loss, x), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        grad_weight, numerical_gradient(loss, layer.weight), rtol=1e-6
    )
    np.testing.assert_allclose(
        grad_bias, numerical_gradient(loss, layer.bias), rtol=1e-6
    )


def test_dropout_gradient_matches_finite_differences_with_its_mask():
    # With the mask fixed, dropout is linear and its backward applies the mask.
    rng = np.random.default_rng(0)
    layer = Dropout("layers.1", 0.4, np.random.default_rng(5))
    x, weights = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
    layer.forward(x, training=True)
    mask = layer.mask.copy()
    delta = layer.backward(weights)
    numeric = numerical_gradient(lambda: float((x * mask * weights).sum()), x)
    np.testing.assert_allclose(delta, numeric, rtol=1e-7)
    assert set(np.unique(mask)) <= {0.0, 1.0 / 0.6}


def test_dropout_is_the_identity_at_inference():
    # Outside training the input comes back untouched, with no rescaling.
    x = np.arange(6.0).reshape(2, 3)
    layer = Dropout("layers.1", 0.5, np.random.default_rng(0))
    assert layer.forward(x, training=False) is x and layer.infer(x) is x


BN_SPEC = {
    "network": {
        "layers": [
            {"type": "dense", "units": 6, "activation": "linear"},
            {
                "type": "batch_norm",
                "momentum": 0.3,
                "epsilon": 1e-4,
                "activation": "relu",
            },
            {"type": "dropout", "rate": 0.3},
            {"type": "dense", "units": 3, "activation": "softmax"},
        ]
    },
    "dtype": "float64",
}


@pytest.mark.torch
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_and_dropout_match_torch(training):
    # Forward, every gradient and the running statistics equal PyTorch's, in
    # both modes; in training torch gets our dropout mask.
    torch = pytest.importorskip("torch")
    config = FitConfig.from_dict(BN_SPEC)
    network = build_network(
        config, 4, np.random.default_rng(0), np.random.default_rng(1)
    )
    bn = network.layers[1]
    bn.running_mean[...] = np.linspace(-1, 1, 6)
    bn.running_var[...] = np.linspace(0.5, 2, 6)
    rng = np.random.default_rng(2)
    x, target = rng.normal(size=(8, 4)) * 2, rng.integers(0, 3, size=8)
    loss = make_loss("cross_entropy", config.loss_options, np.float64, np)

    twin = torch_twin(torch, network, config)
    scores = network.forward(x, training=training)
    value = loss.forward(scores, target)
    network.backward(loss.backward())

    dropout = network.layers[3]
    if training:
        mask = torch.tensor(dropout.mask)
        twin[3] = _Multiply(torch, mask)
    twin.train(training)
    scores_t = twin(torch.tensor(x))
    value_t = torch.nn.CrossEntropyLoss()(scores_t, torch.tensor(target))
    value_t.backward()

    np.testing.assert_allclose(scores, scores_t.detach().numpy(), rtol=1e-6, atol=1e-12)
    assert value == pytest.approx(value_t.item(), rel=1e-6)
    expected = torch_grads(twin, config)
    for name, grad in network.grads().items():
        np.testing.assert_allclose(
            grad, expected[name], rtol=1e-6, atol=1e-10, err_msg=name
        )
    np.testing.assert_allclose(
        bn.running_mean, twin[1].running_mean.numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(bn.running_var, twin[1].running_var.numpy(), rtol=1e-12)


def _Multiply(torch, mask):
    class Multiply(torch.nn.Module):
        def forward(self, x):
            return x * mask

    return Multiply()


def _c3_spec(rate):
    return {
        "task": "regression",
        "loss": "mse",
        "network": {
            "layers": [
                {"type": "dense", "units": 16, "activation": "relu"},
                {"type": "dropout", "rate": rate},
                {"type": "dense", "units": 1, "activation": "linear"},
            ]
        },
        "training": {"epochs": 50, "batch_size": 16},
    }


def test_c3_dropout_predictions_are_deterministic_and_unscaled():
    # C3: two predict calls are bit-identical and equal the network without the
    # dropout layer and without any extra scaling.
    x, y = linear_regression_data(n=80)
    model = fit(x, y, FitConfig.from_dict(_c3_spec(0.5))).model
    first, second = model.predict(x).predictions, model.predict(x).predictions
    assert first == second
    hidden, output = model.network.layers[0], model.network.layers[3]
    h = model.standardizer.transform(x.astype(np.float32))
    plain = np.maximum(h @ hidden.weight + hidden.bias, 0) @ output.weight + output.bias
    expected = (
        plain[:, 0].astype(np.float64) * model.target_scale[0] + model.target_mean[0]
    )
    np.testing.assert_allclose(first, expected, rtol=1e-6)


def test_c3_dropout_rate_zero_equals_no_dropout_layer():
    # C3: trained with rate 0.0 the weights equal those of the same net without it.
    x, y = linear_regression_data(n=80)
    with_dropout = fit(x, y, FitConfig.from_dict(_c3_spec(0.0))).model.network
    spec = _c3_spec(0.0)
    del spec["network"]["layers"][1]
    without = fit(x, y, FitConfig.from_dict(spec)).model.network
    for a, b in zip(
        with_dropout.params().values(), without.params().values(), strict=True
    ):
        assert a.tobytes() == b.tobytes()


def test_batch_norm_survives_a_last_batch_of_one_row():
    # A training batch of one row has no variance: no NaN, no warning.
    x, y = blobs(n_per_class=11)
    spec = {
        "network": {
            "layers": [
                {"type": "dense", "units": 8},
                {"type": "batch_norm", "activation": "relu"},
                {"type": "dense", "units": 3, "activation": "softmax"},
            ]
        },
        "training": {"epochs": 3, "batch_size": 8, "validation_split": 0.0},
    }
    result = fit(x, y, FitConfig.from_dict(spec))  # 33 rows: last batch has 1
    assert all(np.isfinite(h["loss"]) for h in result.history)
    assert np.isfinite(result.model.predict(x).probabilities).all()
