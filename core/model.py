"""A trained model: the network plus everything needed to predict from raw rows.

``Model.predict`` takes raw features, standardises them with the training
statistics, runs the network in inference mode and maps the scores back:
class labels as the original Python values, or regression values in the
target's original units. It keeps no state between calls, so one model can
serve concurrent requests. Everything a call can precompute (dtype, the
layer steps, the output mapping, the label lookup) is prepared at load time.
"""

import math
from dataclasses import dataclass

import numpy as np

from core import fused
from core.activations import sigmoid
from core.backend import to_numpy
from core.data import check_features
from core.errors import DataError
from core.inference import DenseForward
from core.losses import LOSSES
from core.table import Table


@dataclass(slots=True)
class Prediction:
    """Predictions for each row, and class probabilities (classification).

    ``predictions`` is a list of original labels (classification) or floats in
    the target's units (regression); ``probabilities`` is a float64 array of
    shape (n_rows, n_classes), columns in ``Model.classes`` order, or None.
    """

    predictions: list
    probabilities: np.ndarray | None


class Model:
    """A network with its feature standardiser, task and classes.

    Parameters
    ----------
    network : Network
    standardizer : Standardizer
        Training-split mean and scale, shape (n_features,) each.
    config : FitConfig
    n_features : int
    classes : list or None
        Sorted original labels; None for regression.
    target_mean, target_scale : array of shape (1,) or None
        Regression target statistics (float64).
    """

    def __init__(
        self,
        network,
        standardizer,
        config,
        n_features: int,
        classes: list | None = None,
        target_mean=None,
        target_scale=None,
        table_encoder=None,
    ) -> None:
        self.network = network
        self.standardizer = standardizer
        self.config = config
        self.task = config.task
        self.n_features = n_features
        self.classes = classes
        self.target_mean = target_mean
        self.target_scale = target_scale
        # Set when the model was trained on a table (core.tabular).
        self.table_encoder = table_encoder
        self._dtype = np.dtype(config.dtype)
        self._mean, self._scale = standardizer.mean, standardizer.scale
        self._steps = tuple(layer.infer for layer in network.layers)
        self._forward = DenseForward(network, self._mean, self._scale)
        self._link = LOSSES[config.loss].link
        self._lookup = None
        if classes is not None:
            self._lookup = np.empty(len(classes), dtype=object)
            self._lookup[:] = classes
        if target_mean is not None:
            self._target = (float(target_scale[0]), float(target_mean[0]))

    @property
    def input_names(self) -> list[str] | None:
        """The raw columns a table model takes, in order; None for a matrix model."""
        if self.table_encoder is None:
            return None
        return [plan.name for plan in self.table_encoder.plans]

    def predict_records(self, records: list[dict]) -> Prediction:
        """Predict for rows given as dicts keyed by column name (None: missing).

        Raises
        ------
        DataError
            For a value that its column cannot take, a missing value the
            policy refuses, or a category unseen in training under "error".
        """
        encoder = self.table_encoder
        if encoder is None:
            raise ValueError("this model takes numeric rows, not records")
        kinds = {plan.name: plan.kind for plan in encoder.plans}
        try:
            table = Table.from_records(records, kinds, list(kinds))
        except ValueError as exc:
            raise DataError("", str(exc)) from exc
        return self.predict(table)

    def predict(self, x) -> Prediction:
        """Predict for raw rows ``x`` of shape (n_rows, n_features), or a Table.

        Raises
        ------
        ValueError
            If ``x`` is not 2-D with ``n_features`` columns, or holds a
            non-finite or non-numeric value.
        """
        if self.table_encoder is not None:
            if not isinstance(x, Table):
                if any(p.kind == "categorical" for p in self.table_encoder.plans):
                    raise ValueError(
                        "this model has categorical columns: give rows as records "
                        f"keyed by column name ({', '.join(self.input_names)})"
                    )
                x = Table.from_matrix(check_features(x), self.input_names)
            x = self.table_encoder.transform(x, self._dtype)
        try:
            x = np.asarray(x, dtype=self._dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"x must hold numbers: {exc}") from exc
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(
                f"x must have shape (n_rows, {self.n_features}): the model expects "
                f"{self.n_features} features, got shape {x.shape}"
            )
        # One sum finds a NaN or infinity (an overflow only costs the exact check).
        if not math.isfinite(np.add.reduce(x, axis=None)) and not np.isfinite(x).all():
            row, column = np.argwhere(~np.isfinite(x))[0]
            raise ValueError(
                f"x holds a non-finite value at row {row}, column {column}"
            )
        h = self._forward(x)
        if h is None:
            h = x - self._mean  # (n_rows, n_features)
            h /= self._scale
            for step in self._steps:
                h = step(h)
        h = to_numpy(h)  # (n_rows, outputs)
        if self._link == "softmax":
            softmax = fused.softmax_rows(h)
            if softmax is not None:
                codes, probabilities = softmax
                return Prediction(self._lookup[codes].tolist(), probabilities)
        scores = np.asarray(h, dtype=np.float64)
        if self._link is None:
            scale, mean = self._target
            return Prediction((scores[:, 0] * scale + mean).tolist(), None)
        if self._link == "softmax":
            # The arg-max gives both the class and the row's maximum for a
            # stable softmax, where softmax() would reduce twice more.
            codes = scores.argmax(axis=1)  # (n_rows,)
            scores -= scores[np.arange(len(scores)), codes][:, None]
            probabilities = np.exp(scores, out=scores)
            probabilities /= np.add.reduce(probabilities, axis=1, keepdims=True)
        else:
            p = sigmoid(scores[:, 0])
            probabilities = np.stack((1.0 - p, p), axis=1)
            codes = (scores[:, 0] > 0).view(np.int8)
        return Prediction(self._lookup[codes].tolist(), probabilities)
