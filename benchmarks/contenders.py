"""The same network trained and served by Descent, PyTorch and scikit-learn.

Each ``*_training`` function returns a callable that trains from scratch
(building the network and optimizer inside, as a user's call would) and
returns ``Trained(loss, model)``: the mean mini-batch loss of the last epoch,
as a check that every contender did the same work, and the trained model for
the prediction benchmark. Descent gets the raw rows and standardises them
itself inside ``fit``; PyTorch and scikit-learn get rows standardised
beforehand, outside the timing, so Descent's figure carries work theirs do
not.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from core import FitConfig, dumps, fit, loads

LEARNING_RATE = 1e-3
DESCENT = "Descent core, fit()"
TORCH_FUSED = "PyTorch, Adam(fused=True)"
TORCH_DEFAULT = "PyTorch, default Adam"
SKLEARN = "scikit-learn MLPClassifier"


@dataclass
class Trained:
    loss: float
    model: object


def descent_spec(sizes, batch, epochs, device="cpu") -> dict:
    hidden = [{"units": units, "activation": "relu"} for units in sizes[1:-1]]
    last = {"units": sizes[-1], "activation": "softmax"}
    return {
        "network": {"layers": [*hidden, last]},
        "optimizer": {"name": "adam", "learning_rate": LEARNING_RATE},
        "training": {"epochs": epochs, "batch_size": batch, "validation_split": 0.0},
        "dtype": "float32",
        "device": device,
    }


def descent_training(x, y, sizes, batch, epochs, device="cpu"):
    config = FitConfig.from_dict(descent_spec(sizes, batch, epochs, device))

    def run() -> Trained:
        result = fit(x, y, config)
        return Trained(result.history[-1]["loss"], result.model)

    return run


def torch_training(x, y, sizes, batch, epochs, fused, device="cpu"):
    """PyTorch's own loop: index, zero_grad, forward, backward, step."""
    import torch

    where = torch.device("cuda" if device == "gpu" else "cpu")
    rows_t = torch.from_numpy(x).to(where)
    target_t = torch.from_numpy(y.astype(np.int64)).to(where)
    options = {"fused": True} if fused else {}

    def run() -> Trained:
        torch.manual_seed(0)
        model = _torch_network(torch, sizes).to(where)
        optimizer = torch.optim.Adam(model.parameters(), LEARNING_RATE, **options)
        loss_fn = torch.nn.CrossEntropyLoss()
        n_rows = len(rows_t)
        for _ in range(epochs):
            order = torch.randperm(n_rows, device=where)
            total = torch.zeros((), device=where)
            for start in range(0, n_rows, batch):
                rows = order[start : start + batch]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(rows_t[rows]), target_t[rows])
                loss.backward()
                optimizer.step()
                total += loss.detach()  # no .item() per step: no sync
        steps = -(-n_rows // batch)
        return Trained(float(total) / steps, model)

    return run


def sklearn_training(x, y, sizes, batch, epochs):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    def run() -> Trained:
        classifier = MLPClassifier(
            hidden_layer_sizes=tuple(sizes[1:-1]),
            activation="relu",
            solver="adam",
            alpha=0.0,
            batch_size=batch,
            learning_rate_init=LEARNING_RATE,
            max_iter=epochs,
            shuffle=True,
            random_state=0,
            tol=0.0,
            n_iter_no_change=epochs + 1,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            classifier.fit(x, y)
        return Trained(classifier.loss_curve_[-1], classifier)

    return run


def _torch_network(torch, sizes):
    modules = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        modules += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    return torch.nn.Sequential(*modules[:-1])


def descent_predictor(model):
    """``Model.predict`` on a model loaded from its archive, as the API does."""
    loaded = loads(dumps(model))
    return loaded.predict


def numpy_predictor(model):
    """Straightforward NumPy: standardise, matmul, relu, softmax."""
    mean, scale = model.standardizer.mean, model.standardizer.scale
    layers = [
        (layer.weight, layer.bias) for layer in model.network.layers if layer.params
    ]

    def predict(rows):
        h = (rows - mean) / scale
        for i, (weight, bias) in enumerate(layers):
            h = h @ weight + bias
            if i < len(layers) - 1:
                h = np.maximum(h, 0)
        h = h - h.max(axis=1, keepdims=True)
        e = np.exp(h)
        return e / e.sum(axis=1, keepdims=True)

    return predict


def torch_predictor(model, mean, scale):
    import torch

    model = model.cpu().eval()

    def predict(rows):
        with torch.inference_mode():
            scores = model(torch.from_numpy((rows - mean) / scale))
            return torch.softmax(scores, dim=1).numpy()

    return predict


def sklearn_predictor(classifier, mean, scale):
    return lambda rows: classifier.predict_proba((rows - mean) / scale)
