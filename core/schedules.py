"""Learning-rate schedules, stepped once per epoch as ``torch.optim.lr_scheduler``.

``lr(epoch)`` gives the rate for a 0-based epoch before it runs; ``observe``
sees the epoch's metrics after it ran (only ``reduce_on_plateau`` uses them).
With ``warmup_epochs = w`` the first ``w`` epochs ramp linearly,
``lr_init * (epoch + 1) / w``, and the schedule proper starts counting at
epoch ``w``. Each closed form equals the rate PyTorch's scheduler of the same
name holds after ``epoch`` calls to ``step()``.
"""

import math

from core.metrics import MAXIMIZED


class Schedule:
    """A constant rate; the base of the others."""

    def __init__(self, learning_rate_init: float, warmup_epochs: int = 0) -> None:
        self.learning_rate_init = learning_rate_init
        self.warmup_epochs = warmup_epochs

    def lr(self, epoch: int) -> float:
        """The learning rate for 0-based ``epoch``."""
        if epoch < self.warmup_epochs:
            return self.learning_rate_init * (epoch + 1) / self.warmup_epochs
        return self._lr(epoch - self.warmup_epochs)

    def _lr(self, epoch: int) -> float:
        return self.learning_rate_init

    def observe(self, epoch: int, metrics: dict[str, float]) -> None:
        """See the metrics of 0-based ``epoch`` once it has run."""

    def state_dict(self) -> dict[str, float]:
        """What a checkpoint must keep (closed forms keep nothing)."""
        return {}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Restore what ``state_dict`` returned."""


class StepSchedule(Schedule):
    """Multiply by ``gamma`` every ``step_size`` epochs (``StepLR``)."""

    def __init__(self, learning_rate_init, step_size, gamma, warmup_epochs=0):
        super().__init__(learning_rate_init, warmup_epochs)
        self.step_size, self.gamma = step_size, gamma

    def _lr(self, epoch):
        return self.learning_rate_init * self.gamma ** (epoch // self.step_size)


class ExponentialSchedule(Schedule):
    """Multiply by ``gamma`` every epoch (``ExponentialLR``)."""

    def __init__(self, learning_rate_init, gamma, warmup_epochs=0):
        super().__init__(learning_rate_init, warmup_epochs)
        self.gamma = gamma

    def _lr(self, epoch):
        return self.learning_rate_init * self.gamma**epoch


class CosineSchedule(Schedule):
    """Half a cosine from the initial rate to ``min_lr`` over ``t_max`` epochs.

    Without restarts it is ``CosineAnnealingLR``; with restarts it is
    ``CosineAnnealingWarmRestarts``: the period starts again at ``t_max`` and
    grows by ``t_mult`` each time.
    """

    def __init__(
        self, learning_rate_init, t_max, min_lr, restarts, t_mult, warmup_epochs=0
    ):
        super().__init__(learning_rate_init, warmup_epochs)
        self.t_max, self.min_lr = t_max, min_lr
        self.restarts, self.t_mult = restarts, t_mult

    def _lr(self, epoch):
        position, period = epoch, self.t_max
        if self.restarts:
            while position >= period:
                position -= period
                period *= self.t_mult
        cosine = 1.0 + math.cos(math.pi * position / period)
        return self.min_lr + (self.learning_rate_init - self.min_lr) * cosine / 2.0


class PlateauSchedule(Schedule):
    """Cut the rate by ``factor`` when ``metric`` stalls (``ReduceLROnPlateau``).

    An epoch counts as better when it beats the best so far by the relative
    ``threshold``; after more than ``patience`` epochs without one the rate is
    multiplied by ``factor`` (not below ``min_lr``) and ``cooldown`` epochs
    pass before counting again.
    """

    def __init__(
        self,
        learning_rate_init,
        metric,
        factor,
        patience,
        threshold,
        cooldown,
        min_lr,
        warmup_epochs=0,
    ):
        super().__init__(learning_rate_init, warmup_epochs)
        self.metric, self.factor, self.patience = metric, factor, patience
        self.threshold, self.cooldown, self.min_lr = threshold, cooldown, min_lr
        # Maximised metrics are negated, so "better" always means "smaller".
        self.sign = -1.0 if metric in MAXIMIZED else 1.0
        self.margin = 1.0 + threshold if metric in MAXIMIZED else 1.0 - threshold
        self.current = learning_rate_init
        self.best = math.inf
        self.bad_epochs = 0
        self.cooldown_left = 0

    def _lr(self, epoch):
        return self.current

    def observe(self, epoch, metrics):
        if epoch < self.warmup_epochs:
            return
        value = self.sign * metrics[self.metric]
        if value < self.best * self.margin:
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0
        if self.bad_epochs > self.patience:
            reduced = max(self.current * self.factor, self.min_lr)
            # PyTorch ignores cuts smaller than 1e-8.
            if self.current - reduced > 1e-8:
                self.current = reduced
            self.cooldown_left, self.bad_epochs = self.cooldown, 0

    def state_dict(self):
        return {
            "current": self.current,
            "best": self.best,
            "bad_epochs": self.bad_epochs,
            "cooldown_left": self.cooldown_left,
        }

    def load_state_dict(self, state):
        self.current = float(state["current"])
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
        self.cooldown_left = int(state["cooldown_left"])


SCHEDULES = ("constant", "step", "exponential", "cosine", "reduce_on_plateau")


def make_schedule(config, learning_rate_init: float, epochs: int) -> Schedule:
    """Build the schedule a ``ScheduleConfig`` names."""
    c, lr, warmup = config, learning_rate_init, config.warmup_epochs
    if c.name == "step":
        return StepSchedule(lr, c.step_size, c.gamma, warmup)
    if c.name == "exponential":
        return ExponentialSchedule(lr, c.gamma, warmup)
    if c.name == "cosine":
        t_max = c.t_max if c.t_max is not None else max(epochs - warmup, 1)
        return CosineSchedule(lr, t_max, c.min_lr, c.restarts, c.t_mult, warmup)
    if c.name == "reduce_on_plateau":
        return PlateauSchedule(
            lr,
            c.metric,
            c.factor,
            c.patience,
            c.threshold,
            c.cooldown,
            c.min_lr,
            warmup,
        )
    return Schedule(lr, warmup)
