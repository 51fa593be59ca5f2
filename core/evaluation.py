"""Metrics from scores: train-side during an epoch, and per held-out split.

Classification scores are logits: the predicted class is the arg-max (or a
positive logit for binary cross-entropy, i.e. p > 0.5). Regression scores are
standardised; rmse is computed after mapping them back to the target's units.
The loss on a held-out split is the loss of the scaled target, as in training.

During an epoch each training batch leaves one number per row in an
epoch-long array on the training device (its arg-max, or its one score); the
train-side metrics are counted from it once, when the epoch ends.
"""

import numpy as np

from core.backend import get_xp, to_numpy
from core.errors import DivergedError
from core.metrics import accuracy, confusion_matrix, r2, rmse

# Held-out rows go through the network this many at a time to bound memory.
CHUNK_ROWS = 16384


class Evaluator:
    """Turns a run's scores into its metrics."""

    def __init__(self, network, loss, data) -> None:
        self.network, self.loss, self.data = network, loss, data
        self.regression = data.task == "regression"
        # Multi-class runs keep each row's arg-max, the others its one score.
        self.argmax = not self.regression and loss.link == "softmax"
        self.seen = None

    def start_epoch(self, order=None) -> None:
        """Start an epoch that visits the training rows in ``order``.

        ``order`` is a NumPy array of row indices, or None for stored order.
        """
        self.order = order
        if self.seen is None:
            x = self.data.train.x
            dtype = np.intp if self.argmax else x.dtype
            self.seen = get_xp(x).empty(len(x), dtype=dtype)  # (n_train,)

    def observe(self, scores, start: int) -> None:
        """Keep a training batch's predictions, rows ``start`` onwards."""
        seen = self.seen[start : start + len(scores)]
        if self.argmax:
            scores.argmax(axis=1, out=seen)
        else:
            seen[...] = scores[:, 0]

    def end_epoch(self) -> dict[str, float]:
        """Train-side metrics of the epoch's forward passes."""
        truth = self.data.train.truth
        if self.order is not None:
            truth = truth[self.order]
        seen = to_numpy(self.seen)
        if not self.regression:
            predicted = seen if self.argmax else (seen > 0).astype(np.intp)
            return {"accuracy": accuracy(predicted, truth)}
        diff = self._original_units(seen) - truth
        sse = float(diff @ diff)
        total = float(((truth - truth.mean()) ** 2).sum())
        r2_value = 1.0 - sse / total if total > 0 else float(sse == 0.0)
        return {"rmse": (sse / len(truth)) ** 0.5, "r2": r2_value}

    def evaluate(self, split: str, epoch: int) -> dict[str, float]:
        """Loss and metrics of a held-out split with the current weights."""
        data = getattr(self.data, split)
        if data is None:
            return {}
        loss, scores = self.loss_and_scores(data)
        if not np.isfinite(loss):
            raise DivergedError(epoch, f"the {split} loss became {loss}")
        prefix = "val_" if split == "validation" else ""
        predicted = self.predict(scores)
        if self.regression:
            metrics = {
                "loss": loss,
                "rmse": rmse(predicted, data.truth),
                "r2": r2(predicted, data.truth),
            }
        else:
            metrics = {"loss": loss, "accuracy": accuracy(predicted, data.truth)}
        return {f"{prefix}{name}": value for name, value in metrics.items()}

    def confusion(self) -> list[list[int]] | None:
        """Confusion matrix of the test split, rows true and columns predicted."""
        test = self.data.test
        if test is None or self.regression:
            return None
        _, scores = self.loss_and_scores(test)
        return confusion_matrix(self.predict(scores), test.truth, self.data.n_classes)

    def loss_and_scores(self, data) -> tuple[float, np.ndarray]:
        """Mean loss over ``data`` and its scores, in chunks, inference mode."""
        total, weight, parts = 0.0, 0.0, []
        for start in range(0, len(data.x), CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            scores = self.network.infer(data.x[rows])
            chunk_weight = self.loss.batch_weight(data.target[rows])
            total += self.loss.forward(scores, data.target[rows]) * chunk_weight
            weight += chunk_weight
            parts.append(to_numpy(scores))
        return total / weight, np.concatenate(parts)

    def predict(self, scores) -> np.ndarray:
        """Class codes, or regression predictions in original units."""
        scores = to_numpy(scores)
        if self.regression:
            return self._original_units(scores[:, 0])
        if self.loss.link == "sigmoid":
            return (scores[:, 0] > 0).astype(np.intp)
        return scores.argmax(axis=1)

    def _original_units(self, scores: np.ndarray) -> np.ndarray:
        # float32 scores times float64 statistics: float64 predictions.
        return scores * self.data.target_scale[0] + self.data.target_mean[0]
