"""The compiled forward pass predicts what the layer-by-layer path predicts."""

import numpy as np
import pytest
from gradcheck import blobs, dense_spec, linear_regression_data

from core import FitConfig, fit, fused
from core.inference import DenseForward

LAYERS = {
    "relu": [(16, "relu"), (8, "relu")],
    "leaky_relu": [(16, "leaky_relu"), (8, "linear")],
    "dropout": [(16, "relu"), "dropout", (8, "relu")],
    "tanh": [(16, "tanh")],
    "batch_norm": [(16, "relu"), "batch_norm"],
}


def _model(hidden, dtype, task="classification"):
    layers = []
    for layer in hidden:
        if layer == "dropout":
            layers.append({"type": "dropout", "rate": 0.3})
        elif layer == "batch_norm":
            layers.append({"type": "batch_norm"})
        else:
            layers.append({"type": "dense", "units": layer[0], "activation": layer[1]})
    if task == "classification":
        x, y = blobs(n_per_class=30, n_features=5, labels=("a", "b", "c"))
        last, loss = {"units": 3, "activation": "softmax"}, "cross_entropy"
    else:
        x, y = linear_regression_data(n_features=5)
        last, loss = {"units": 1, "activation": "linear"}, "mse"
    spec = dense_spec(task=task, loss=loss, dtype=dtype, training={"epochs": 5})
    spec["network"] = {"layers": [*layers, {"type": "dense", **last}]}
    return fit(x, y, FitConfig.from_dict(spec)).model, x


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["relu", "leaky_relu", "dropout"])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_compiled_forward_predicts_as_the_layers_do(name, dtype, task, monkeypatch):
    # Same labels; scores and probabilities equal to float rounding (the two
    # paths may reach different BLAS builds), for 1 row and for 90.
    model, x = _model(LAYERS[name], dtype, task)
    assert model._forward.plan is not None
    compiled = [model.predict(x[:1]), model.predict(x)]
    monkeypatch.setattr(fused, "ENABLED", False)
    layers = [model.predict(x[:1]), model.predict(x)]
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for ours, theirs in zip(compiled, layers, strict=True):
        if task == "classification":
            assert ours.predictions == theirs.predictions
            np.testing.assert_allclose(
                ours.probabilities, theirs.probabilities, rtol=rtol, atol=1e-9
            )
        else:
            np.testing.assert_allclose(ours.predictions, theirs.predictions, rtol=rtol)


@pytest.mark.parametrize("name", ["tanh", "batch_norm"])
def test_other_layers_keep_the_layer_path(name):
    # A network the loop cannot run has no plan and still predicts.
    model, x = _model(LAYERS[name], "float32")
    assert model._forward.plan is None
    assert model._forward(x) is None
    assert len(model.predict(x).predictions) == len(x)


def test_compiled_scores_are_the_layer_scores_for_a_hand_network():
    # One dense layer, relu, one more: scores worked out with NumPy.
    model, x = _model(LAYERS["relu"], "float64")
    network = model.network
    forward = DenseForward(network, model._mean, model._scale)
    h = (x - model._mean) / model._scale
    for layer in network.layers:
        h = layer.infer(h)
    np.testing.assert_allclose(forward(x), h, rtol=1e-12)


def test_softmax_rows_is_stable_and_matches_numpy():
    # Logits of +-1e4 give exact 0 and 1, no NaN; ordinary rows match NumPy.
    scores = np.array([[1e4, -1e4, 0.0], [0.5, 2.0, -1.0]], np.float32)
    codes, p = fused.softmax_rows(scores)
    assert codes.tolist() == [0, 1]
    assert p[0].tolist() == [1.0, 0.0, 0.0]
    z = scores[1].astype(np.float64)
    expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(p[1], expected, rtol=1e-15)
