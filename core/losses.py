"""Losses, each a mean over the batch exactly as PyTorch's defaults reduce.

``forward(scores, target)`` returns the loss as a Python float and keeps what
``backward()`` needs; ``backward()`` returns ``delta`` = dL/dscores with the
shape of ``scores``. Classification losses are fused with their output
function and take logits: cross-entropy is log-softmax plus negative
log-likelihood, binary cross-entropy is computed from the logit as
``max(z, 0) - z*y + log1p(exp(-|z|))``. Target 0 with logit 40 then gives a
loss of exactly 40.0 and a gradient of 1.0, where clipping probabilities
would give 16.1 and the naive formula inf. ``link`` names the function that
turns scores into probabilities at prediction time.

Targets: class indices of shape (batch,) for cross-entropy; (batch, outputs)
arrays in the scores' dtype for every other loss.
"""

import math

from core.activations import log_softmax, row_max, sigmoid
from core.backend import Array, Scratch, get_xp


class Loss:
    """Base: ``link`` maps scores to predictions (None: the identity)."""

    link: str | None = None

    def forward(self, scores: Array, target: Array) -> float:
        """The batch's mean loss; keeps what ``backward`` needs.

        Parameters
        ----------
        scores : array of shape (batch, outputs)
        target : array of shape (batch,) of class indices, or (batch, outputs)

        Returns
        -------
        float
        """
        raise NotImplementedError

    def backward(self) -> Array:
        """``delta`` = dL/dscores of the last ``forward``, shape (batch, outputs)."""
        raise NotImplementedError

    def batch_weight(self, target: Array) -> float:
        """The divisor of this batch's mean, to combine batches exactly."""
        return float(len(target))

    def error_size(self, loss: float) -> float | None:
        """The typical error a mean ``loss`` amounts to, in target units.

        Regression targets are standardised, so this is in standard
        deviations of the target; None for classification losses.
        """
        return None


class MSE(Loss):
    """Mean squared error over the batch and the outputs."""

    def forward(self, scores: Array, target: Array) -> float:
        self.diff = _difference(scores, target)  # (batch, outputs)
        flat = self.diff.ravel()
        return float(get_xp(scores).vdot(flat, flat)) / flat.size

    def backward(self) -> Array:
        return self.diff * (2.0 / self.diff.size)

    def error_size(self, loss: float) -> float:
        return math.sqrt(max(loss, 0.0))  # the root mean square error


class MAE(Loss):
    """Mean absolute error (PyTorch's ``L1Loss``)."""

    def forward(self, scores: Array, target: Array) -> float:
        self.diff = _difference(scores, target)
        return float(get_xp(scores).abs(self.diff).sum()) / self.diff.size

    def backward(self) -> Array:
        return get_xp(self.diff).sign(self.diff) * (1.0 / self.diff.size)

    def error_size(self, loss: float) -> float:
        return loss


class Huber(Loss):
    """Quadratic within ``delta`` of the target, linear beyond it."""

    def __init__(self, delta: float = 1.0) -> None:
        self.delta = delta

    def forward(self, scores: Array, target: Array) -> float:
        xp = get_xp(scores)
        self.diff = _difference(scores, target)
        abs_diff = xp.abs(self.diff)
        quadratic = 0.5 * self.diff * self.diff
        linear = (abs_diff - 0.5 * self.delta) * self.delta
        size = self.diff.size
        return float(xp.where(abs_diff < self.delta, quadratic, linear).sum()) / size

    def backward(self) -> Array:
        clipped = get_xp(self.diff).clip(self.diff, -self.delta, self.delta)
        return clipped * (1.0 / self.diff.size)

    def error_size(self, loss: float) -> float:
        # The error whose Huber loss this is: quadratic, then linear beyond delta.
        if loss <= 0.5 * self.delta * self.delta:
            return math.sqrt(max(2.0 * loss, 0.0))
        return loss / self.delta + 0.5 * self.delta


class CrossEntropy(Loss):
    """Softmax cross-entropy from logits, with PyTorch's weights and smoothing.

    With class weights ``w`` the mean divides by the summed weight of the
    targets, and label smoothing ``eps`` mixes in ``eps / classes`` of every
    class's (weighted) log-likelihood, as ``torch.nn.CrossEntropyLoss`` does.

    Without either, forward and backward share one pass of ``exp``: the loss
    is ``mean(log(sum(e)) - shifted[target])`` and the gradient
    ``(e / sum(e) - onehot) / batch``, with ``e = exp(shifted)`` and
    ``shifted`` the logits less their row maximum, all in reused buffers.
    """

    link = "softmax"

    def __init__(self, label_smoothing: float = 0.0, class_weights=None) -> None:
        self.label_smoothing = label_smoothing
        self.class_weights = class_weights
        self.scratch = None
        self.rows = None

    def batch_weight(self, target: Array) -> float:
        if self.class_weights is None:
            return float(len(target))
        return float(self.class_weights[target].sum())

    def forward(self, scores: Array, target: Array) -> float:
        xp = get_xp(scores)
        if self.rows is None or len(self.rows) != len(target):
            self.rows = xp.arange(len(target))
        self.target = target
        if self.class_weights is None and self.label_smoothing == 0.0:
            self.coef = None
            return self._fused_forward(scores, target, xp)
        self.log_p = log_softmax(scores)  # (batch, classes)
        self.coef = self._coefficients(scores, target, self.rows)
        return -float((self.coef * self.log_p).sum())

    def backward(self) -> Array:
        if self.coef is None:
            return self._fused_backward()
        p = get_xp(self.log_p).exp(self.log_p)  # (batch, classes)
        return p * self.coef.sum(axis=1, keepdims=True) - self.coef

    def _fused_forward(self, scores: Array, target: Array, xp) -> float:
        if self.scratch is None:
            self.scratch = Scratch(xp)
        shifted = self.scratch.get("shifted", scores.shape, scores.dtype)
        xp.subtract(scores, row_max(scores), out=shifted)
        self.exp = self.scratch.get("exp", scores.shape, scores.dtype)
        xp.exp(shifted, out=self.exp)  # (batch, classes), each row's max is 1
        self.total = self.exp.sum(axis=1, keepdims=True)  # (batch, 1), >= 1
        # Both sums are of non-negative terms: no cancellation in float32.
        picked = shifted[self.rows, target].sum()
        return float(xp.log(self.total).sum() - picked) / len(target)

    def _fused_backward(self) -> Array:
        xp = get_xp(self.exp)
        delta = self.scratch.get("delta", self.exp.shape, self.exp.dtype)
        xp.divide(self.exp, self.total, out=delta)  # (batch, classes), softmax
        delta[self.rows, self.target] -= 1.0
        delta *= 1.0 / len(self.target)
        return delta

    def _coefficients(self, scores: Array, target: Array, rows: Array) -> Array:
        # loss = -sum(coef * log_p): each row's weight on each log-probability.
        xp = get_xp(scores)
        n_classes = scores.shape[1]
        weights = self.class_weights
        if weights is None:
            weights = xp.ones(n_classes, dtype=scores.dtype)
        target_weight = weights[target]  # (batch,)
        smooth = self.label_smoothing
        coef = xp.broadcast_to(weights * (smooth / n_classes), scores.shape).copy()
        coef[rows, target] += target_weight * (1.0 - smooth)
        coef /= target_weight.sum()
        return coef


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy from one logit per row (``BCEWithLogitsLoss``)."""

    link = "sigmoid"

    def forward(self, scores: Array, target: Array) -> float:
        xp = get_xp(scores)
        _difference(scores, target)
        self.scores, self.target = scores, target
        softplus = xp.log1p(xp.exp(-xp.abs(scores)))  # (batch, 1)
        losses = xp.maximum(scores, 0) - scores * target + softplus
        return float(losses.sum()) / scores.size

    def backward(self) -> Array:
        return (sigmoid(self.scores) - self.target) * (1.0 / self.scores.size)


LOSSES = {
    "mse": MSE,
    "mae": MAE,
    "huber": Huber,
    "cross_entropy": CrossEntropy,
    "binary_cross_entropy": BinaryCrossEntropy,
}
REGRESSION_LOSSES = ("mse", "mae", "huber")
CLASSIFICATION_LOSSES = ("cross_entropy", "binary_cross_entropy")


def make_loss(name: str, options, dtype, xp):
    """Return the loss called ``name`` configured from ``LossOptions``."""
    if name == "huber":
        return Huber(options.delta)
    if name == "cross_entropy":
        weights = options.class_weights
        if weights is not None:
            weights = xp.asarray(weights, dtype=dtype)
        return CrossEntropy(options.label_smoothing, weights)
    return LOSSES[name]()


def _difference(scores: Array, target: Array) -> Array:
    # A (batch,) target against (batch, 1) scores would broadcast to a square.
    if scores.shape != target.shape:
        raise ValueError(f"target shape {target.shape} != scores {scores.shape}")
    return scores - target
