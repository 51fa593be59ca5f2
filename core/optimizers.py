"""Optimizers: a base class owns the params; each algorithm supplies the update.

``Optimizer.step()`` asks ``_update`` for each parameter's update, given its
gradient, writes it into a preallocated buffer and subtracts it in place:
``param -= update``. Subclasses keep their state (``velocity``; ``m``, ``v``
and the step counter ``t``) in ``self.state[slot][param_name]``, which
``state_dict``/``load_state_dict`` save and restore for checkpoints.

Formulas follow ``torch.optim`` with its default arguments, so runs can be
compared with PyTorch step by step. ``weight_decay`` is PyTorch's: added to
the gradient (L2) for every optimizer except ``adamw``, which decays the
weights directly (Loshchilov and Hutter 2019).
"""

import math

import numpy as np

from core.backend import Array


class Optimizer:
    """Holds ``params`` and ``grads`` (same names) and applies updates.

    Parameters
    ----------
    params, grads : dict of str to array
        The network's arrays; updated and read in place.
    lr : float
        The current learning rate; schedules assign to it between epochs.
    """

    slots: tuple[str, ...] = ()

    def __init__(self, params: dict[str, Array], grads: dict[str, Array], lr: float):
        self.params = params
        self.grads = grads
        self.lr = lr
        self.t = 0
        self.state = {
            slot: {name: np.zeros_like(p) for name, p in params.items()}
            for slot in self.slots
        }
        self._buffers = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self) -> dict[str, Array]:
        """Apply one update to every parameter; return the updates applied."""
        self.t += 1
        for name, param in self.params.items():
            update = self._buffers[name]
            self._update(name, param, self.grads[name], update)
            param -= update
        return self._buffers

    def _update(self, name: str, param: Array, grad: Array, out: Array) -> None:
        raise NotImplementedError

    def state_dict(self) -> tuple[dict[str, Array], dict[str, int]]:
        """Arrays named ``"<slot>.<param name>"`` and the step counter."""
        arrays = {
            f"{slot}.{name}": array
            for slot, by_name in self.state.items()
            for name, array in by_name.items()
        }
        return arrays, {"t": self.t}

    def load_state_dict(self, arrays: dict[str, Array], scalars: dict[str, int]):
        """Restore what ``state_dict`` returned, copying into existing arrays."""
        for slot, by_name in self.state.items():
            for name, array in by_name.items():
                array[...] = arrays[f"{slot}.{name}"]
        self.t = int(scalars["t"])


class SGD(Optimizer):
    """SGD with optional momentum and Nesterov momentum, as ``torch.optim.SGD``.

    ``velocity = momentum * velocity + grad``; the update is ``lr * velocity``
    (or ``lr * (grad + momentum * velocity)`` with Nesterov).
    """

    def __init__(
        self, params, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0
    ):
        self.slots = ("velocity",) if momentum else ()
        super().__init__(params, grads, lr)
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay

    def _update(self, name, param, grad, out):
        if self.weight_decay:
            grad = grad + param * self.weight_decay
        if self.momentum:
            velocity = self.state["velocity"][name]
            velocity *= self.momentum
            velocity += grad
            grad = grad + velocity * self.momentum if self.nesterov else velocity
        np.multiply(grad, self.lr, out=out)


class Adam(Optimizer):
    """Adam with bias correction, and AdamW when ``decoupled`` is set.

    ``m = beta1*m + (1-beta1)*g``, ``v = beta2*v + (1-beta2)*g**2``; the update
    is ``lr / (1-beta1**t) * m / (sqrt(v) / sqrt(1-beta2**t) + epsilon)``.
    """

    slots = ("m", "v")

    def __init__(
        self,
        params,
        grads,
        lr,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-8,
        weight_decay=0.0,
        decoupled=False,
    ):
        super().__init__(params, grads, lr)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.weight_decay = weight_decay
        self.decoupled = decoupled

    def _update(self, name, param, grad, out):
        if self.weight_decay and not self.decoupled:
            grad = grad + param * self.weight_decay
        m, v = self.state["m"][name], self.state["v"][name]

        # moments, with ``out`` as scratch space
        m *= self.beta1
        m += np.multiply(grad, 1.0 - self.beta1, out=out)
        v *= self.beta2
        np.multiply(grad, grad, out=out)
        v += np.multiply(out, 1.0 - self.beta2, out=out)

        # bias-corrected step
        correction1 = 1.0 - self.beta1**self.t
        correction2 = 1.0 - self.beta2**self.t
        np.sqrt(v, out=out)
        out *= 1.0 / math.sqrt(correction2)
        out += self.epsilon
        np.divide(m, out, out=out)
        out *= self.lr / correction1
        if self.weight_decay and self.decoupled:
            out += param * (self.lr * self.weight_decay)


class RMSprop(Optimizer):
    """RMSprop as ``torch.optim.RMSprop``: ``v = alpha*v + (1-alpha)*g**2``."""

    def __init__(
        self,
        params,
        grads,
        lr,
        alpha=0.99,
        epsilon=1e-8,
        momentum=0.0,
        weight_decay=0.0,
    ):
        self.slots = ("v", "velocity") if momentum else ("v",)
        super().__init__(params, grads, lr)
        self.alpha, self.epsilon = alpha, epsilon
        self.momentum = momentum
        self.weight_decay = weight_decay

    def _update(self, name, param, grad, out):
        if self.weight_decay:
            grad = grad + param * self.weight_decay
        v = self.state["v"][name]
        v *= self.alpha
        v += np.multiply(grad, grad, out=out) * (1.0 - self.alpha)
        np.sqrt(v, out=out)
        out += self.epsilon
        np.divide(grad, out, out=out)
        if self.momentum:
            velocity = self.state["velocity"][name]
            velocity *= self.momentum
            velocity += out
            out[...] = velocity
        out *= self.lr


class Adagrad(Optimizer):
    """Adagrad as ``torch.optim.Adagrad``: ``sum += g**2``, step ``g/sqrt(sum)``."""

    slots = ("sum",)

    def __init__(self, params, grads, lr, epsilon=1e-10, weight_decay=0.0):
        super().__init__(params, grads, lr)
        self.epsilon = epsilon
        self.weight_decay = weight_decay

    def _update(self, name, param, grad, out):
        if self.weight_decay:
            grad = grad + param * self.weight_decay
        accumulated = self.state["sum"][name]
        accumulated += np.multiply(grad, grad, out=out)
        np.sqrt(accumulated, out=out)
        out += self.epsilon
        np.divide(grad, out, out=out)
        out *= self.lr


OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


def make_optimizer(config, params, grads) -> Optimizer:
    """Build the optimizer an ``OptimizerConfig`` names over ``params``."""
    c = config
    lr, decay = c.learning_rate, c.weight_decay
    if c.name == "sgd":
        return SGD(params, grads, lr, c.momentum, c.nesterov, decay)
    if c.name in ("adam", "adamw"):
        decoupled = c.name == "adamw"
        return Adam(params, grads, lr, c.beta1, c.beta2, c.epsilon, decay, decoupled)
    if c.name == "rmsprop":
        return RMSprop(params, grads, lr, c.alpha, c.epsilon, c.momentum, decay)
    if c.name == "adagrad":
        return Adagrad(params, grads, lr, c.epsilon, decay)
    raise ValueError(f"unknown optimizer {c.name!r}")
