"""Layers: each keeps its forward pass and its backward pass side by side.

``forward(x, training)`` computes the output and keeps what ``backward`` needs.
``backward(grad_out)`` stores the parameter gradients in preallocated arrays
(``grad_weight``, ``grad_bias``: the optimizer holds references to them, so they
are written in place, never rebound) and returns ``delta`` for the layer below,
or None when the layer below needs none (the first trainable layer).

A dense layer computes ``y = x @ weight + bias`` with weight of shape
``(in_features, out_features)``. In training it writes its output and its
``delta`` into buffers it keeps per batch size, so a run allocates nothing per
step: what ``forward`` and ``backward`` return is valid until the layer's next
call. ``infer`` allocates, so concurrent predictions share no memory.
"""

import numpy as np

from core import fused
from core.backend import Array, Scratch


class Layer:
    """Base: no parameters, no buffers, passes everything through."""

    params: dict[str, Array] = {}
    grads: dict[str, Array] = {}
    buffers: dict[str, Array] = {}
    needs_input_grad = True

    def __init__(self, name: str) -> None:
        self.name = name

    def forward(self, x: Array, training: bool = False) -> Array:
        """Compute the output and keep what ``backward`` needs.

        Parameters
        ----------
        x : array of shape (batch, in_features)
        training : bool
            Training mode (batch statistics, dropout) or inference mode.

        Returns
        -------
        array of shape (batch, out_features)
        """
        return x

    def backward(self, grad_out: Array) -> Array | None:
        """Store parameter gradients; return ``delta`` for the layer below.

        Parameters
        ----------
        grad_out : array of shape (batch, out_features)
            dL/d(output) of the last ``forward``.

        Returns
        -------
        array of shape (batch, in_features), or None
            dL/d(input); None when ``needs_input_grad`` is False.
        """
        return grad_out

    def infer(self, x: Array) -> Array:
        """Inference output, keeping no state (safe across threads)."""
        return x

    def bind(self, params: dict[str, Array], grads: dict[str, Array]) -> None:
        """Use these arrays (views of the network's flat buffers) from now on.

        ``params["weight"]`` becomes ``self.weight`` and ``grads["weight"]``
        ``self.grad_weight``, and likewise for every other name.
        """
        for key in params:
            setattr(self, key, params[key])
            setattr(self, f"grad_{key}", grads[key])
        self.params, self.grads = params, grads


class Dense(Layer):
    """Fully connected layer ``y = x @ weight + bias``."""

    def __init__(self, name: str, weight: Array, bias: Array, xp=np) -> None:
        super().__init__(name)
        self.xp = xp
        self.weight = weight  # (in_features, out_features)
        self.bias = bias  # (out_features,)
        self.grad_weight = xp.zeros_like(weight)
        self.grad_bias = xp.zeros_like(bias)
        self.params = {"weight": self.weight, "bias": self.bias}
        self.grads = {"weight": self.grad_weight, "bias": self.grad_bias}
        self.scratch = Scratch(xp)

    def forward(self, x: Array, training: bool = False) -> Array:
        self.x = x  # (batch, in_features)
        dtype = x.dtype
        if dtype != self.weight.dtype:
            dtype = self.xp.result_type(dtype, self.weight.dtype)
        out = self.scratch.get("out", (len(x), self.weight.shape[1]), dtype)
        self.xp.matmul(x, self.weight, out=out)  # (batch, out_features)
        if not fused.add_bias(out, self.bias):
            out += self.bias
        return out

    def infer(self, x: Array) -> Array:
        out = x @ self.weight
        out += self.bias
        return out

    def backward(self, grad_out: Array) -> Array | None:
        # parameter gradients
        self.xp.matmul(self.x.T, grad_out, out=self.grad_weight)
        grad_out.sum(axis=0, out=self.grad_bias)

        # input gradient
        if not self.needs_input_grad:
            return None
        delta = self.scratch.get("delta", self.x.shape, grad_out.dtype)
        return self.xp.matmul(grad_out, self.weight.T, out=delta)  # (batch, in)


class Activation(Layer):
    """An activation function applied elementwise (or row-wise for softmax).

    With ``inplace`` the layer may overwrite its input and its ``grad_out``;
    the network sets it where it owns both (after a dense or batch-norm layer).
    """

    def __init__(self, name: str, function, inplace: bool = False) -> None:
        super().__init__(name)
        self.function = function
        self.inplace = inplace and not function.needs_input

    def forward(self, x: Array, training: bool = False) -> Array:
        self.x = x if self.function.needs_input else None
        self.a = self.function.forward(x, out=x if self.inplace else None)
        return self.a

    def infer(self, x: Array) -> Array:
        return self.function.forward(x, out=x if self.inplace else None)

    def backward(self, grad_out: Array) -> Array:
        out = grad_out if self.inplace else None
        return self.function.backward(grad_out, self.x, self.a, out=out)


class Dropout(Layer):
    """Inverted dropout: zero each unit with probability ``rate`` in training.

    Survivors are scaled by ``1 / (1 - rate)`` so that inference is the identity.
    The mask comes from ``rng``, the run's seeded dropout generator.
    """

    def __init__(self, name: str, rate: float, rng=None, xp=np) -> None:
        super().__init__(name)
        self.rate = rate
        self.rng = rng
        self.xp = xp
        self.mask = None

    def forward(self, x: Array, training: bool = False) -> Array:
        if not training or self.rate == 0.0:
            self.mask = None
            return x
        keep = self.rng.random(x.shape, dtype=x.dtype) >= self.rate
        scale = 1.0 / (1.0 - self.rate)
        self.mask = self.xp.asarray(keep).astype(x.dtype) * scale  # (batch, units)
        return x * self.mask

    def backward(self, grad_out: Array) -> Array:
        if self.mask is None:
            return grad_out
        return grad_out * self.mask
