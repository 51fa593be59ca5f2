"""What happens to the gradients between backward and the optimizer step.

Weight penalties add ``l1 * sum|w| + l2 * sum w**2`` over dense weights (not
biases, not batch-norm scales) to the loss and ``l1 * sign(w) + 2 * l2 * w`` to
their gradients, the convention of Keras' ``l1_l2``. Clipping follows
``torch.nn.utils``: ``clip_grad_value_`` clamps each element to
``[-value, value]``, then ``clip_grad_norm_`` rescales all gradients together
when their global L2 norm exceeds ``norm``.
"""

import math

from core.backend import Array, get_xp


def penalized_weights(network) -> list[tuple[Array, Array]]:
    """(weight, grad_weight) of every dense layer, the arrays penalties apply to."""
    return [
        (layer.weight, layer.grad_weight)
        for layer in network.layers
        if type(layer).__name__ == "Dense"
    ]


def apply_penalty(pairs, l1: float, l2: float) -> float:
    """Add the penalties' gradients in place; return the penalty's value."""
    total = 0.0
    for weight, grad in pairs:
        xp = get_xp(weight)
        if l1:
            total += l1 * float(xp.abs(weight).sum())
            grad += xp.sign(weight) * l1
        if l2:
            flat = weight.ravel()
            total += l2 * float(xp.vdot(flat, flat))
            grad += weight * (2.0 * l2)
    return total


def clip_gradients(grads: dict[str, Array], norm: float | None, value: float | None):
    """Clip ``grads`` in place by value, then by global norm; return the norm."""
    if value is not None:
        for grad in grads.values():
            get_xp(grad).clip(grad, -value, value, out=grad)
    if norm is None:
        return None
    total = math.sqrt(sum(float(_squared(grad)) for grad in grads.values()))
    # PyTorch adds 1e-6 to the norm, so a zero gradient never divides by zero.
    coefficient = norm / (total + 1e-6)
    if coefficient < 1.0:
        for grad in grads.values():
            grad *= coefficient
    return total


def _squared(array: Array):
    flat = array.ravel()
    return get_xp(array).vdot(flat, flat)
