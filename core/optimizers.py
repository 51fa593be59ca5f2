"""Optimizers: a base class owns the params; each algorithm supplies the update.

``Optimizer.step()`` has ``_update`` write each parameter group's update into
a preallocated buffer, then subtracts it in place: ``param -= update``. With
the network's ``flat`` buffers (all parameters in one array, all gradients in
another) there is one group and a step is a dozen whole-array operations,
or for Adam on NumPy arrays one compiled pass (``core.fused``) with the same
bits; separate arrays are a group each, with the same arithmetic. The
state (``velocity``; ``m``, ``v`` and the step counter ``t``) is flat too,
addressed per parameter as ``self.state[slot][param_name]`` for checkpoints.

Formulas follow ``torch.optim`` with its default arguments, so runs can be
compared with PyTorch step by step. ``weight_decay`` is PyTorch's: added to
the gradient (L2) for every optimizer except ``adamw``, which decays the
weights directly (Loshchilov and Hutter 2019).
"""

import math

import numpy as np

from core import fused
from core.backend import Array, copy_into, get_xp


class Optimizer:
    """Holds ``params`` and ``grads`` (same names) and applies updates.

    Parameters
    ----------
    params, grads : dict of str to array
        The network's arrays; updated and read in place.
    lr : float
        The current learning rate; schedules assign to it between epochs.
    flat : (array, array), optional
        ``Network.flat_params`` and ``flat_grads``: 1-D arrays that the
        arrays of ``params`` and ``grads`` are views of, in the same order.
    """

    slots: tuple[str, ...] = ()

    def __init__(
        self,
        params: dict[str, Array],
        grads: dict[str, Array],
        lr: float,
        flat: tuple[Array, Array] | None = None,
    ):
        self.params = params
        self.grads = grads
        self.lr = lr
        self.t = 0
        self.keep_updates = True
        self.xp = get_xp(next(iter(params.values()))) if params else np
        if flat is None or flat[0] is None:
            self._separate_groups()
        else:
            self._flat_group(*flat)

    def step(self, keep_updates: bool = True) -> dict[str, Array] | None:
        """Apply one update to every parameter; return the updates applied.

        The returned arrays (one per parameter name) are overwritten by the
        next step. With ``keep_updates`` False the updates may go unstored
        (the compiled Adam then writes a fifth less memory) and None is
        returned.
        """
        self.t += 1
        self.keep_updates = keep_updates
        self._start_step()
        for param, grad, update, state in self._groups:
            self._apply(param, grad, update, state)
        return self.updates if keep_updates else None

    def _start_step(self) -> None:
        """Compute the scalars this step shares across groups."""

    def _apply(self, param: Array, grad: Array, out: Array, state: dict) -> None:
        """Update ``param`` in place, leaving the update in ``out``."""
        self._update(param, grad, out, state)
        param -= out

    def _update(self, param: Array, grad: Array, out: Array, state: dict) -> None:
        """Write the update of ``param`` into ``out``; advance ``state``."""
        raise NotImplementedError

    def _separate_groups(self) -> None:
        zeros = self.xp.zeros_like
        self.state = {
            slot: {name: zeros(p) for name, p in self.params.items()}
            for slot in self.slots
        }
        self.updates = {name: zeros(p) for name, p in self.params.items()}
        self._groups = [
            (
                param,
                self.grads[name],
                self.updates[name],
                {slot: self.state[slot][name] for slot in self.slots},
            )
            for name, param in self.params.items()
        ]

    def _flat_group(self, flat_params: Array, flat_grads: Array) -> None:
        zeros = self.xp.zeros_like
        state = {slot: zeros(flat_params) for slot in self.slots}
        update = zeros(flat_params)
        self.state = {slot: _views(array, self.params) for slot, array in state.items()}
        self.updates = _views(update, self.params)
        self._groups = [(flat_params, flat_grads, update, state)]

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
                copy_into(array, arrays[f"{slot}.{name}"])
        self.t = int(scalars["t"])


def _views(flat: Array, like: dict[str, Array]) -> dict[str, Array]:
    # The network packs its parameters in ``params()`` order, without gaps.
    views, offset = {}, 0
    for name, array in like.items():
        views[name] = flat[offset : offset + array.size].reshape(array.shape)
        offset += array.size
    assert offset == flat.size, "flat buffer does not match the parameters"
    return views


class SGD(Optimizer):
    """SGD with optional momentum and Nesterov momentum, as ``torch.optim.SGD``.

    ``velocity = momentum * velocity + grad``; the update is ``lr * velocity``
    (or ``lr * (grad + momentum * velocity)`` with Nesterov).
    """

    def __init__(
        self,
        params,
        grads,
        lr,
        momentum=0.0,
        nesterov=False,
        weight_decay=0.0,
        flat=None,
    ):
        self.slots = ("velocity",) if momentum else ()
        super().__init__(params, grads, lr, flat)
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay

    def _update(self, param, grad, out, state):
        if self.weight_decay:
            grad = grad + param * self.weight_decay
        if self.momentum:
            velocity = state["velocity"]
            velocity *= self.momentum
            velocity += grad
            grad = grad + velocity * self.momentum if self.nesterov else velocity
        self.xp.multiply(grad, self.lr, out=out)


class Adam(Optimizer):
    """Adam with bias correction, and AdamW when ``decoupled`` is set.

    ``m = beta1*m + (1-beta1)*g``, ``v = beta2*v + (1-beta2)*g**2``; the update
    is ``lr / (1-beta1**t) * m / (sqrt(v) / sqrt(1-beta2**t) + epsilon)``,
    computed as ``step_size * m / (sqrt(v) + epsilon_t)`` with both bias
    corrections folded into the scalars ``step_size = lr * sqrt(1-beta2**t) /
    (1-beta1**t)`` and ``epsilon_t = epsilon * sqrt(1-beta2**t)``: the same
    number, one whole-array operation fewer. NumPy arrays take the compiled
    loop in ``core.fused``, one pass for all of it, with the same bits.
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
        flat=None,
    ):
        super().__init__(params, grads, lr, flat)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.weight_decay = weight_decay
        self.decoupled = decoupled
        for param, grad, update, state in self._groups:
            state["loop"] = fused.adam_loop(param, grad, state["m"], state["v"], update)

    def _start_step(self):
        root_correction2 = math.sqrt(1.0 - self.beta2**self.t)
        self.step_size = self.lr * root_correction2 / (1.0 - self.beta1**self.t)
        self.epsilon_t = self.epsilon * root_correction2

    def _apply(self, param, grad, out, state):
        decay = self.weight_decay
        l2, decoupled = (0.0, decay * self.lr) if self.decoupled else (decay, 0.0)
        loop = state["loop"]  # the compiled step, None where it cannot run
        if loop is None or not fused.ENABLED:
            super()._apply(param, grad, out, state)
            return
        args = (self.beta1, self.beta2, self.step_size, self.epsilon_t, l2, decoupled)
        loop(*args, keep=self.keep_updates)

    def _update(self, param, grad, out, state):
        xp = self.xp
        if self.weight_decay and not self.decoupled:
            grad = grad + param * self.weight_decay
        m, v = state["m"], state["v"]

        # moments, with ``out`` as scratch space
        m *= self.beta1
        m += xp.multiply(grad, 1.0 - self.beta1, out=out)
        v *= self.beta2
        xp.multiply(grad, grad, out=out)
        v += xp.multiply(out, 1.0 - self.beta2, out=out)

        # bias-corrected step
        xp.sqrt(v, out=out)
        out += self.epsilon_t
        xp.divide(m, out, out=out)
        out *= self.step_size
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
        flat=None,
    ):
        self.slots = ("v", "velocity") if momentum else ("v",)
        super().__init__(params, grads, lr, flat)
        self.alpha, self.epsilon = alpha, epsilon
        self.momentum = momentum
        self.weight_decay = weight_decay

    def _update(self, param, grad, out, state):
        xp = self.xp
        if self.weight_decay:
            grad = grad + param * self.weight_decay
        v = state["v"]
        v *= self.alpha
        v += xp.multiply(grad, grad, out=out) * (1.0 - self.alpha)
        xp.sqrt(v, out=out)
        out += self.epsilon
        xp.divide(grad, out, out=out)
        if self.momentum:
            velocity = state["velocity"]
            velocity *= self.momentum
            velocity += out
            out[...] = velocity
        out *= self.lr


class Adagrad(Optimizer):
    """Adagrad as ``torch.optim.Adagrad``: ``sum += g**2``, step ``g/sqrt(sum)``."""

    slots = ("sum",)

    def __init__(self, params, grads, lr, epsilon=1e-10, weight_decay=0.0, flat=None):
        super().__init__(params, grads, lr, flat)
        self.epsilon = epsilon
        self.weight_decay = weight_decay

    def _update(self, param, grad, out, state):
        xp = self.xp
        if self.weight_decay:
            grad = grad + param * self.weight_decay
        accumulated = state["sum"]
        accumulated += xp.multiply(grad, grad, out=out)
        xp.sqrt(accumulated, out=out)
        out += self.epsilon
        xp.divide(grad, out, out=out)
        out *= self.lr


OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


def make_optimizer(config, params, grads, flat=None) -> Optimizer:
    """Build the optimizer an ``OptimizerConfig`` names over ``params``.

    ``flat`` is the network's ``(flat_params, flat_grads)``, when it has them.
    """
    c = config
    lr, decay = c.learning_rate, c.weight_decay
    if c.name == "sgd":
        return SGD(params, grads, lr, c.momentum, c.nesterov, decay, flat)
    if c.name in ("adam", "adamw"):
        adam = (c.beta1, c.beta2, c.epsilon, decay, c.name == "adamw")
        return Adam(params, grads, lr, *adam, flat=flat)
    if c.name == "rmsprop":
        return RMSprop(params, grads, lr, c.alpha, c.epsilon, c.momentum, decay, flat)
    if c.name == "adagrad":
        return Adagrad(params, grads, lr, c.epsilon, decay, flat)
    raise ValueError(f"unknown optimizer {c.name!r}")
