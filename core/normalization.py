"""Batch normalisation (Ioffe and Szegedy 2015), as ``torch.nn.BatchNorm1d``.

Training normalises with the batch's mean and biased variance and moves the
running statistics by ``momentum`` towards the batch's mean and unbiased
variance; inference normalises with the running statistics. ``weight``
(gamma) and ``bias`` (beta) are per-feature and trained.
"""

import numpy as np

from core.backend import Array
from core.layers import Layer


class BatchNorm(Layer):
    """Normalise each feature over the batch, then scale and shift."""

    def __init__(self, name, features, momentum=0.1, epsilon=1e-5, dtype=None, xp=np):
        super().__init__(name)
        self.xp = xp
        self.momentum = momentum
        self.epsilon = epsilon
        dtype = np.dtype(dtype or np.float32)
        self.weight = xp.ones(features, dtype=dtype)
        self.bias = xp.zeros(features, dtype=dtype)
        self.grad_weight = xp.zeros_like(self.weight)
        self.grad_bias = xp.zeros_like(self.bias)
        self.running_mean = xp.zeros(features, dtype=dtype)
        self.running_var = xp.ones(features, dtype=dtype)
        self.params = {"weight": self.weight, "bias": self.bias}
        self.grads = {"weight": self.grad_weight, "bias": self.grad_bias}
        self.buffers = {
            "running_mean": self.running_mean,
            "running_var": self.running_var,
        }

    def forward(self, x: Array, training: bool = False) -> Array:
        self.training = training
        if training:
            mean = x.mean(axis=0)  # (features,)
            var = x.var(axis=0)  # (features,), biased as used to normalise
            self._update_running(mean, var, len(x))
        else:
            mean, var = self.running_mean, self.running_var
        self.inv_std = 1.0 / self.xp.sqrt(var + self.epsilon)  # (features,)
        self.x_hat = (x - mean) * self.inv_std  # (batch, features)
        return self.x_hat * self.weight + self.bias

    def infer(self, x: Array) -> Array:
        inv_std = 1.0 / self.xp.sqrt(self.running_var + self.epsilon)
        return (x - self.running_mean) * inv_std * self.weight + self.bias

    def backward(self, grad_out: Array) -> Array | None:
        # parameter gradients
        grad_out.sum(axis=0, out=self.grad_bias)
        (grad_out * self.x_hat).sum(axis=0, out=self.grad_weight)
        if not self.needs_input_grad:
            return None

        # input gradient: through the batch statistics only in training
        grad_x_hat = grad_out * self.weight  # (batch, features)
        if not self.training:
            return grad_x_hat * self.inv_std
        mean_grad = grad_x_hat.mean(axis=0)
        mean_proj = (grad_x_hat * self.x_hat).mean(axis=0)
        return (grad_x_hat - mean_grad - self.x_hat * mean_proj) * self.inv_std

    def _update_running(self, mean: Array, var: Array, n: int) -> None:
        # A batch of one has no unbiased variance (PyTorch refuses it); the
        # running statistics then stay where they are.
        if n < 2:
            return
        m = self.momentum
        self.running_mean *= 1.0 - m
        self.running_mean += mean * m
        self.running_var *= 1.0 - m
        self.running_var += var * (m * n / (n - 1))
