"""Early stopping: watch one metric, keep the best weights, stop when stalled.

An epoch improves on the best when the metric is better by more than
``min_delta`` (lower for losses and rmse, higher for accuracy and r2). After
``patience`` epochs in a row without improvement the run ends. With
``restore_best`` the network gets the best epoch's parameters and buffers
back when the run ends.
"""

import math

from core.metrics import MAXIMIZED


class EarlyStopping:
    """Tracks the best value of ``config.metric`` and the epochs since."""

    def __init__(self, config, network) -> None:
        self.metric = config.metric
        self.patience = config.patience
        self.min_delta = config.min_delta
        self.restore_best = config.restore_best
        self.network = network
        # Maximised metrics are negated, so "better" always means "smaller".
        self.sign = -1.0 if config.metric in MAXIMIZED else 1.0
        self.best = math.inf
        self.best_epoch = 0
        self.wait = 0
        self.best_state = None

    def update(self, epoch: int, metrics: dict[str, float]) -> bool:
        """Record 1-based ``epoch``; return True when the run should stop."""
        value = self.sign * metrics[self.metric]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_state = {
                    name: array.copy() for name, array in self.network.state().items()
                }
            return False
        self.wait += 1
        return self.wait >= self.patience

    def restore(self) -> None:
        """Put the best epoch's arrays back into the network."""
        if self.restore_best and self.best_state is not None:
            self.network.load_state(self.best_state)

    def state_dict(self) -> dict[str, float]:
        """Counters for a checkpoint (the best arrays travel separately)."""
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    def load_state_dict(self, state: dict[str, float], best_state) -> None:
        """Restore counters and (when kept) the best arrays."""
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self.wait = int(state["wait"])
        self.best_state = best_state
