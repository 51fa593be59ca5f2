"""Metrics from scores: train-side during an epoch, and per held-out split.

Classification scores are logits: the predicted class is the arg-max (or a
positive logit for binary cross-entropy, i.e. p > 0.5). Regression scores are
standardised; rmse is computed after mapping them back to the target's units.
The loss on a held-out split is the loss of the scaled target, as in training.
"""

import numpy as np

from core.backend import to_numpy
from core.errors import DivergedError
from core.metrics import accuracy, confusion_matrix, r2, rmse

# Held-out rows go through the network this many at a time to bound memory.
CHUNK_ROWS = 16384


class Evaluator:
    """Turns a run's scores into its metrics."""

    def __init__(self, network, loss, data) -> None:
        self.network, self.loss, self.data = network, loss, data
        self.regression = data.task == "regression"

    def start_epoch(self) -> None:
        """Reset the train-side counts."""
        self.correct = 0
        self.squared_error = 0.0

    def observe(self, scores, rows) -> None:
        """Accumulate a training batch's predictions (scores of ``rows``)."""
        truth = self.data.train.truth[rows]
        predicted = self.predict(scores)
        if self.regression:
            diff = predicted - truth
            self.squared_error += float(diff @ diff)
        else:
            self.correct += int(np.count_nonzero(predicted == truth))

    def end_epoch(self) -> dict[str, float]:
        """Train-side metrics of the epoch's forward passes."""
        truth = self.data.train.truth
        if not self.regression:
            return {"accuracy": self.correct / len(truth)}
        total = float(((truth - truth.mean()) ** 2).sum())
        sse = self.squared_error
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
            return scores[:, 0] * self.data.target_scale[0] + self.data.target_mean[0]
        if self.loss.link == "sigmoid":
            return (scores[:, 0] > 0).astype(np.intp)
        return scores.argmax(axis=1)
