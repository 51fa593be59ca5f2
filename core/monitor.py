"""Gradient flow: per-layer health numbers for each epoch, and warnings.

For every layer with a weight (dense, batch-norm) it reports

- ``grad_norm``: root mean square over the epoch's steps of ``||grad_weight||``
- ``weight_norm``: ``||weight||`` at the end of the epoch
- ``update_ratio``: mean of ``||update|| / ||weight||`` over a sample of the
  epoch's steps; about 1e-3 is the usual healthy order (Karpathy's rule of
  thumb)
- ``dead_fraction`` (dense layers followed by ReLU): the share of units that
  output zero for every row the epoch trained on.

Every step counts towards ``grad_norm`` and ``dead_fraction``: a gradient's
size varies from batch to batch with heavy tails (a sample of half the steps
missed the RMS by 29% on digits), and a unit is dead only if no row at all
made it fire. ``update_ratio`` varies smoothly, so it is measured on
``SAMPLED_STEPS`` evenly spread steps, the middle one of every ``k``
(``k = ceil(steps / 32)``; every step of an epoch of 32 or fewer). Its two
norms per layer would otherwise read every weight twice more per step (80
microseconds a step on a 784-512-256-10 network); the sample stayed within
2.3% of the every-step mean on digits (20 epochs) and 1.1% on that network.

Warnings name the layer, the number, the threshold and a fix.
"""

import math

from core.activations import ReLU
from core.backend import get_xp

# Thresholds on the epoch's numbers; the fixes are the usual first remedies.
VANISHING_GRAD_NORM = 1e-7
EXPLODING_GRAD_NORM = 1e3
LARGE_UPDATE_RATIO = 0.1
DEAD_FRACTION = 0.5

# Steps whose update ratio is measured per epoch, at most (module docstring).
SAMPLED_STEPS = 32


class GradientMonitor:
    """Accumulates the numbers over an epoch's steps."""

    def __init__(self, network) -> None:
        self.layers = [layer for layer in network.layers if "weight" in layer.params]
        # Flat views of each weight and its gradient, made once: they are
        # written in place and never rebound. Reshaping anew each step took
        # two thirds of the norms' time on small layers.
        self.views = [
            (layer.name, _flat_view(layer.weight), _flat_view(layer.grad_weight))
            for layer in self.layers
        ]
        self.relus = [
            (layer.name.rsplit(".", 1)[0], layer)
            for layer in network.layers
            if isinstance(getattr(layer, "function", None), ReLU)
        ]
        self.ones = {}
        self.start_epoch()

    def start_epoch(self, steps: int = 1) -> None:
        """Reset the accumulators for an epoch of ``steps`` steps."""
        self.step = 0
        self.stride = max(1, -(-steps // SAMPLED_STEPS))
        self.samples = 0  # steps whose update ratio was measured
        self.grad_squares = {layer.name: 0.0 for layer in self.layers}
        self.ratios = {layer.name: 0.0 for layer in self.layers}
        self.activity = {name: None for name, _ in self.relus}

    def after_forward(self) -> None:
        """Add up each ReLU unit's outputs in this batch."""
        for name, layer in self.relus:
            a = layer.a  # (batch, units), all >= 0
            xp = get_xp(a)
            # A sum of non-negative numbers is positive exactly when one of
            # them is, and ones @ a takes 1.0 microseconds where a.max(axis=0)
            # takes 2.2 for (32, 128) float32.
            ones = self.ones.get(len(a))
            if ones is None or ones.dtype != a.dtype:
                ones = self.ones[len(a)] = xp.ones(len(a), dtype=a.dtype)
            fired = xp.matmul(ones, a)  # (units,)
            seen = self.activity[name]
            if seen is None:
                self.activity[name] = fired
            else:
                xp.add(seen, fired, out=seen)

    @property
    def wants_updates(self) -> bool:
        """Whether the coming step's update size is measured (a sampled step)."""
        return self.step % self.stride == self.stride // 2

    def after_step(self, updates) -> None:
        """Note this step's gradient size, and its update size if sampled.

        ``updates`` maps parameter names to the step's updates; it may be
        None when ``wants_updates`` was False.
        """
        sampled = self.wants_updates
        self.step += 1
        for name, _, grad in self.views:
            self.grad_squares[name] += _squares(grad)
        if not sampled or updates is None:
            return
        self.samples += 1
        for name, weight, _ in self.views:
            weight, update = _norm(weight), _norm(updates[f"{name}.weight"])
            self.ratios[name] += update / weight if weight > 0 else 0.0

    def end_epoch(self) -> tuple[dict[str, dict[str, float]], list[str]]:
        """The epoch's numbers per layer, and warnings about them."""
        steps, samples = max(self.step, 1), max(self.samples, 1)
        flow = {
            layer.name: {
                "grad_norm": math.sqrt(self.grad_squares[layer.name] / steps),
                "weight_norm": _norm(layer.weight),
                "update_ratio": self.ratios[layer.name] / samples,
            }
            for layer in self.layers
        }
        for name, activity in self.activity.items():
            if activity is not None:
                flow[name]["dead_fraction"] = 1.0 - float((activity > 0).mean())
        return flow, _warnings(flow)


def _warnings(flow: dict[str, dict[str, float]]) -> list[str]:
    warnings = []
    for name, numbers in flow.items():
        grad = numbers["grad_norm"]
        if grad < VANISHING_GRAD_NORM:
            warnings.append(
                f"{name}: vanishing gradient, norm {grad:.3g} below "
                f"{VANISHING_GRAD_NORM:g}; try relu with he_normal init or batch_norm"
            )
        if grad > EXPLODING_GRAD_NORM:
            warnings.append(
                f"{name}: exploding gradient, norm {grad:.3g} above "
                f"{EXPLODING_GRAD_NORM:g}; lower the learning rate or set clip.norm"
            )
        if numbers["update_ratio"] > LARGE_UPDATE_RATIO:
            warnings.append(
                f"{name}: updates are {numbers['update_ratio']:.3g} of the weights "
                f"per step, above {LARGE_UPDATE_RATIO:g}; lower the learning rate"
            )
        dead = numbers.get("dead_fraction", 0.0)
        if dead > DEAD_FRACTION:
            warnings.append(
                f"{name}: {dead:.0%} of relu units never fired this epoch; "
                "lower the learning rate or use leaky_relu"
            )
    return warnings


def _norm(array) -> float:
    return math.sqrt(_squares(array))


def _squares(array) -> float:
    # The sum of squares of an array, through BLAS on NumPy arrays.
    flat = array if array.ndim == 1 else array.ravel()
    return float(get_xp(flat).vdot(flat, flat))


def _flat_view(array):
    # A 1-D view of a C-contiguous array; any other array itself, since
    # reshaping it would copy, and the copy would not follow its updates.
    return array.reshape(-1) if array.flags.c_contiguous else array
