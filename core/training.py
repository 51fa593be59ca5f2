"""The epoch and mini-batch loop, its per-epoch report and its history.

``Trainer.run`` trains for the configured epochs from wherever its state
stands (a fresh start, or a restored checkpoint). Each epoch shuffles the
training rows with the run's own generator, steps through mini-batches of
``batch_size`` (the last, partial batch included), evaluates the validation
split, and reports. Train-side accuracy, rmse and r2 come from the epoch's own
forward passes, made while the weights were still moving, as Keras reports
them; ``loss`` is the mean of the epoch's mini-batch losses (penalties
included) and ``val_loss`` the validation split's loss with the end-of-epoch
weights. Arithmetic warnings are silenced here because every loss and weight
is checked for finiteness instead and a breakdown raises ``DivergedError``.

A regression loss can also run away while staying finite: Adam's step is
bounded by the learning rate, so at rate 10 on diabetes the loss of the
standardised target jumps from 3.6 to 2.8e7 in the first epoch and the run
would end with a useless model (validation r2 of -350). So an epoch whose
typical error (``Loss.error_size``: the root mean square error for mse, the
mean absolute error for mae, in standard deviations of the target) passes
``BLOW_UP_FACTOR`` times the first mini-batch's, and at least that many
standard deviations, stops the run as diverged too. At rate 10 on diabetes
the error reaches 770 to 190,000 times its start in epoch 1 under Adam,
AdamW, RMSprop and Adagrad with mse, mae or huber (SGD reaches infinity).
Classification is left to the non-finite check: a cross-entropy on raw
features can pass a million times its start and still train to a loss of 0
(CASES C1 and C2, which must finish).
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.backend import get_xp
from core.early_stopping import EarlyStopping
from core.errors import DivergedError
from core.evaluation import Evaluator
from core.gradients import apply_penalty, clip_gradients, penalized_weights
from core.monitor import GradientMonitor

# A regression error this many times the first batch's (and this many
# standard deviations of the target) has run away.
BLOW_UP_FACTOR = 100.0


@dataclass
class EpochReport:
    """What one finished epoch reports to ``on_epoch``.

    ``metrics`` holds ``loss``, ``lr``, ``duration_s`` and the task's metrics
    (``accuracy`` or ``rmse`` and ``r2``, with ``val_`` twins when there is a
    validation split). ``layers`` holds the gradient-flow numbers per layer
    and ``warnings`` the problems they show. ``checkpoint()`` serialises the
    complete training state as it stands after this epoch; call it inside the
    callback, before training moves on.
    """

    epoch: int
    epochs: int
    metrics: dict[str, float]
    duration_s: float
    layers: dict[str, dict[str, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _save: Callable[[], bytes] | None = field(default=None, repr=False)

    def checkpoint(self) -> bytes:
        """The training state after this epoch as npz bytes (no pickle)."""
        if self._save is None:
            raise RuntimeError("this report carries no training state")
        return self._save(self.epoch)


class Trainer:
    """Owns a run's moving parts: network, loss, optimizer, schedule, data."""

    def __init__(self, network, loss, optimizer, schedule, config, data, rngs):
        self.network, self.loss = network, loss
        self.optimizer, self.schedule = optimizer, schedule
        self.config, self.data = config, data
        self.shuffle_rng, self.dropout_rng = rngs
        self.epoch = 0
        self.finished = False
        self.history: list[dict[str, float]] = []
        self.first_loss: float | None = None  # the run's first mini-batch loss
        self.evaluator = Evaluator(network, loss, data)
        self.monitor = GradientMonitor(network)
        self.penalized = penalized_weights(network)
        self.stopping = None
        if config.early_stopping is not None:
            self.stopping = EarlyStopping(config.early_stopping, network)
        self.save_checkpoint: Callable[[int], bytes] | None = None

    def run(self, on_epoch=None, should_stop=None) -> bool:
        """Train the remaining epochs; return True if stopped by a caller."""
        epochs = self.config.training.epochs
        with np.errstate(all="ignore"):
            while self.epoch < epochs and not self.finished:
                started = time.perf_counter()
                lr = self.schedule.lr(self.epoch)
                self.optimizer.lr = lr
                metrics = self._train_epoch(should_stop)
                if metrics is None:
                    return True
                self.epoch += 1
                metrics.update(self.evaluator.evaluate("validation", self.epoch))
                metrics["lr"] = lr
                self._check_weights()
                self.schedule.observe(self.epoch - 1, metrics)
                if self.stopping is not None:
                    self.finished = self.stopping.update(self.epoch, metrics)
                metrics["duration_s"] = time.perf_counter() - started
                self.history.append({"epoch": self.epoch, **metrics})
                if on_epoch is not None and on_epoch(self._report(metrics)):
                    return True
        if self.stopping is not None:
            self.stopping.restore()
        return False

    def _train_epoch(self, should_stop) -> dict[str, float] | None:
        train = self.data.train
        n_rows, batch_size = len(train.x), self.config.training.batch_size
        order = device_order = None
        if self.config.training.shuffle:
            order = self.shuffle_rng.permutation(n_rows)
            device_order = get_xp(train.x).asarray(order)
        self.monitor.start_epoch(-(-n_rows // batch_size))
        self.evaluator.start_epoch(order)
        losses = []
        for start in range(0, n_rows, batch_size):
            if should_stop is not None and should_stop():
                return None
            if order is None:
                rows = slice(start, start + batch_size)
            else:
                rows = device_order[start : start + batch_size]
            losses.append(self._step(train.x[rows], train.target[rows], start))
        metrics = {"loss": float(np.mean(losses))}
        self._check_blow_up(losses[0], metrics["loss"])
        metrics.update(self.evaluator.end_epoch())
        return metrics

    def _step(self, x, target, start) -> float:
        scores = self.network.forward(x, training=True)  # (batch, outputs)
        self.monitor.after_forward()
        self.evaluator.observe(scores, start)
        loss = self.loss.forward(scores, target)
        self.network.backward(self.loss.backward())
        penalty = self.config.regularization
        if penalty.l1 or penalty.l2:
            loss += apply_penalty(self.penalized, penalty.l1, penalty.l2)
        if not math.isfinite(loss):
            raise DivergedError(self.epoch + 1, f"the loss became {loss}")
        clip = self.config.clip
        if clip.norm is not None or clip.value is not None:
            clip_gradients(self.optimizer.grads, clip.norm, clip.value)
        # Updates are stored only for the steps whose update ratio is sampled.
        updates = self.optimizer.step(keep_updates=self.monitor.wants_updates)
        self.monitor.after_step(updates)
        return loss

    def _check_blow_up(self, first: float, loss: float) -> None:
        if self.first_loss is None:
            self.first_loss = first
        error = self.loss.error_size(loss)
        if error is None:
            return
        start = self.loss.error_size(self.first_loss)
        limit = BLOW_UP_FACTOR * max(start, 1.0)
        if error > limit:
            raise DivergedError(
                self.epoch + 1,
                f"the loss rose to {loss:.3g}, an error of {error:.3g} standard "
                f"deviations of the target, over {BLOW_UP_FACTOR:g} times the "
                f"first batch's {start:.3g}",
            )

    def _check_weights(self) -> None:
        for name, array in self.network.state().items():
            if not get_xp(array).isfinite(array).all():
                raise DivergedError(self.epoch, f"{name} became non-finite")

    def _report(self, metrics: dict[str, float]) -> EpochReport:
        layers, warnings = self.monitor.end_epoch()
        return EpochReport(
            epoch=self.epoch,
            epochs=self.config.training.epochs,
            metrics=dict(metrics),
            duration_s=metrics["duration_s"],
            layers=layers,
            warnings=warnings,
            _save=self._checkpoint_at,
        )

    def _checkpoint_at(self, epoch: int) -> bytes:
        if epoch != self.epoch or self.save_checkpoint is None:
            raise RuntimeError(
                f"checkpoint() of epoch {epoch} was called after training moved "
                f"on to epoch {self.epoch + 1}; call it inside on_epoch"
            )
        return self.save_checkpoint(epoch)
