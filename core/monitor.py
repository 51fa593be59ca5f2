"""Gradient flow: per-layer health numbers for each epoch, and warnings.

For every layer with a weight (dense, batch-norm) it reports

- ``grad_norm``: root mean square over the epoch's steps of ``||grad_weight||``
- ``weight_norm``: ``||weight||`` at the end of the epoch
- ``update_ratio``: mean over the steps of ``||update|| / ||weight||``; about
  1e-3 is the usual healthy order (Karpathy's rule of thumb)
- ``dead_fraction`` (dense layers followed by ReLU): the share of units that
  output zero for every row the epoch trained on.

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


class GradientMonitor:
    """Accumulates the numbers over an epoch's steps."""

    def __init__(self, network) -> None:
        self.layers = [layer for layer in network.layers if "weight" in layer.params]
        self.relus = [
            (layer.name.rsplit(".", 1)[0], layer)
            for layer in network.layers
            if isinstance(getattr(layer, "function", None), ReLU)
        ]
        self.start_epoch()

    def start_epoch(self) -> None:
        """Reset the accumulators."""
        self.steps = 0
        self.grad_squares = {layer.name: 0.0 for layer in self.layers}
        self.ratios = {layer.name: 0.0 for layer in self.layers}
        self.alive = {name: None for name, _ in self.relus}

    def after_forward(self) -> None:
        """Note which ReLU units fired in this batch."""
        for name, layer in self.relus:
            fired = (layer.a > 0).any(axis=0)  # (units,)
            seen = self.alive[name]
            self.alive[name] = fired if seen is None else seen | fired

    def after_step(self, updates) -> None:
        """Note the gradient and update sizes of this step."""
        self.steps += 1
        for layer in self.layers:
            grad = _norm(layer.grad_weight)
            self.grad_squares[layer.name] += grad * grad
            weight = _norm(layer.weight)
            update = _norm(updates[f"{layer.name}.weight"])
            self.ratios[layer.name] += update / weight if weight > 0 else 0.0

    def end_epoch(self) -> tuple[dict[str, dict[str, float]], list[str]]:
        """The epoch's numbers per layer, and warnings about them."""
        steps = max(self.steps, 1)
        flow = {
            layer.name: {
                "grad_norm": math.sqrt(self.grad_squares[layer.name] / steps),
                "weight_norm": _norm(layer.weight),
                "update_ratio": self.ratios[layer.name] / steps,
            }
            for layer in self.layers
        }
        for name, alive in self.alive.items():
            if alive is not None:
                flow[name]["dead_fraction"] = 1.0 - float(alive.mean())
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
    flat = array.ravel()
    return math.sqrt(float(get_xp(array).vdot(flat, flat)))
