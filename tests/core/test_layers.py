import numpy as np
import pytest
from gradcheck import dense_spec, numerical_gradient

from core.config import FitConfig
from core.layers import Dense
from core.losses import make_loss
from core.network import build_network


def _dense(rng, fan_in=4, fan_out=3, dtype=np.float64):
    weight = rng.normal(size=(fan_in, fan_out)).astype(dtype)
    return Dense("layers.0", weight, rng.normal(size=fan_out).astype(dtype))


def test_dense_gradients_match_finite_differences():
    # grad_weight, grad_bias and the input delta are the derivatives of x@W+b.
    rng = np.random.default_rng(0)
    layer = _dense(rng)
    x, weights = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))

    def loss():
        return float((layer.forward(x) * weights).sum())

    layer.forward(x)
    delta = layer.backward(weights)
    np.testing.assert_allclose(
        layer.grad_weight, numerical_gradient(loss, layer.weight), rtol=1e-7
    )
    np.testing.assert_allclose(
        layer.grad_bias, numerical_gradient(loss, layer.bias), rtol=1e-7
    )
    np.testing.assert_allclose(delta, numerical_gradient(loss, x), rtol=1e-7)


def test_dense_writes_gradients_into_the_same_arrays():
    # The optimizer holds references to grad arrays: backward must not rebind them.
    rng = np.random.default_rng(0)
    layer = _dense(rng)
    held = layer.grads["weight"]
    layer.forward(rng.normal(size=(2, 4)))
    layer.backward(np.ones((2, 3)))
    assert layer.grad_weight is held and held.any()


@pytest.mark.parametrize(
    "layers, loss",
    [
        ([(6, "relu"), (3, "softmax")], "cross_entropy"),
        ([(6, "tanh"), (5, "leaky_relu"), (1, "sigmoid")], "binary_cross_entropy"),
        ([(6, "sigmoid"), (4, "softmax"), (1, "linear")], "mse"),
        ([(5, "elu"), (5, "gelu"), (1, "tanh")], "huber"),
    ],
)
def test_network_gradients_match_finite_differences(layers, loss):
    # End to end: every parameter gradient equals the numerical one (float64).
    task = "classification" if loss.endswith("entropy") else "regression"
    config = FitConfig.from_dict(
        dense_spec(*layers, loss=loss, task=task, dtype="float64")
    )
    network = build_network(config, 4, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 4))
    loss_fn = make_loss(config.loss, config.loss_options, np.float64, np)
    if loss == "cross_entropy":
        target = rng.integers(0, 3, size=7)
    elif loss == "binary_cross_entropy":
        target = rng.integers(0, 2, size=(7, 1)) * 1.0
    else:
        target = rng.normal(size=(7, 1))

    def objective():
        return loss_fn.forward(network.forward(x, training=True), target)

    objective()
    network.backward(loss_fn.backward())
    grads = {name: g.copy() for name, g in network.grads().items()}
    for name, param in network.params().items():
        numeric = numerical_gradient(objective, param)
        np.testing.assert_allclose(
            grads[name], numeric, rtol=1e-5, atol=1e-8, err_msg=name
        )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_network_keeps_its_dtype(dtype):
    # Params, activations and gradients all stay in the configured dtype.
    config = FitConfig.from_dict(dense_spec((5, "relu"), (3, "softmax"), dtype=dtype))
    network = build_network(config, 4, np.random.default_rng(0))
    x = np.ones((2, 4), dtype=dtype)
    scores = network.forward(x, training=True)
    network.backward(np.ones_like(scores))
    arrays = [scores, *network.params().values(), *network.grads().values()]
    assert {a.dtype for a in arrays} == {np.dtype(dtype)}


def test_first_layer_skips_its_input_gradient():
    # Nothing needs dL/dx of the raw input, so the first dense layer returns None.
    config = FitConfig.from_dict(dense_spec((5, "relu"), (3, "softmax")))
    network = build_network(config, 4, np.random.default_rng(0))
    network.forward(np.ones((2, 4), np.float32), training=True)
    assert network.layers[0].backward(np.ones((2, 5), np.float32)) is None


def test_fused_last_activation_is_left_to_the_loss():
    # With cross-entropy the network returns logits: no softmax layer at the end.
    config = FitConfig.from_dict(dense_spec((5, "relu"), (3, "softmax")))
    network = build_network(config, 4, np.random.default_rng(0))
    assert [layer.name for layer in network.layers] == [
        "layers.0",
        "layers.0.relu",
        "layers.1",
    ]
    assert list(network.params()) == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ]
