"""Trends in gradient flow across epochs: vanishing and exploding gradients.

``GradientMonitor`` judges one epoch at a time against absolute thresholds.
A deep sigmoid network shows the other picture: every gradient is modest in
absolute terms, yet the first layer's is a thousand times smaller than the
last layer's, epoch after epoch, and the early layers barely learn. This
module watches that ratio and warns once it has held for several epochs.
"""

import math

# The first layers' gradient below this share of the output layer's: with
# sigmoid's derivative at most 0.25, eight layers shrink it by about 0.25**7,
# 6e-5, while a healthy relu network stays within a factor of 10 or so.
VANISHING_RATIO = 1e-3
EXPLODING_RATIO = 1e3
# Epochs in a row before a warning: one bad epoch at the start is normal.
PATIENCE_EPOCHS = 3


class GradientTrend:
    """Feed it each epoch's per-layer numbers; it returns new warnings."""

    def __init__(self, patience: int = PATIENCE_EPOCHS) -> None:
        self.patience = patience
        self.streaks = {"vanishing": 0, "exploding": 0}

    def update(self, epoch: int, layers: dict[str, dict[str, float]]) -> list[str]:
        """Warnings that this epoch completes a streak of ``patience`` epochs.

        Parameters
        ----------
        epoch : int
            The epoch the numbers belong to (1-based).
        layers : dict
            ``EpochReport.layers``: layer name to ``grad_norm`` and more, in
            network order, the output layer last.
        """
        norms = [(name, numbers["grad_norm"]) for name, numbers in layers.items()]
        if len(norms) < 2:
            return []
        output_norm = norms[-1][1]
        first_name, first_norm = min(norms[:-1], key=lambda item: item[1])
        if not (math.isfinite(output_norm) and output_norm > 0):
            return []
        ratio = first_norm / output_norm
        warnings = []
        for kind, bad in (
            ("vanishing", ratio < VANISHING_RATIO),
            ("exploding", ratio > EXPLODING_RATIO),
        ):
            self.streaks[kind] = self.streaks[kind] + 1 if bad else 0
            if self.streaks[kind] == self.patience:
                warnings.append(self._message(kind, epoch, first_name, ratio))
        return warnings

    def _message(self, kind: str, epoch: int, name: str, ratio: float) -> str:
        fix = (
            "use relu with he_normal init, or add batch_norm"
            if kind == "vanishing"
            else "lower the learning rate, set clip.norm, or add batch_norm"
        )
        return (
            f"epoch {epoch}: {kind} gradients: {name}'s gradient norm has been "
            f"{ratio:.2g} times the output layer's for {self.patience} epochs; {fix}"
        )
