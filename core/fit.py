"""``fit``: train a network on raw arrays and return a model and its history.

This is the core's one entry point for training. The worker calls it with a
job's data and spec, turns each ``EpochReport`` into database writes, asks it
to stop through ``should_stop`` and resumes an interrupted job by passing the
last report's checkpoint back in.

With ``config.device == "gpu"`` the data is prepared on the CPU as always,
then its splits move to the GPU, the network is built there from the same
seeded initial weights and trained with CuPy, and the trained network is
copied back into a NumPy one: the returned model, its ``dumps`` and its
``predict`` are NumPy whatever the device. Checkpoints hold NumPy arrays too,
so a run may resume on either device.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from core.backend import device_xp
from core.checkpoint import restore_checkpoint, save_checkpoint
from core.config import FitConfig
from core.data import Dataset, Split, prepare_data
from core.errors import ConfigError
from core.losses import make_loss
from core.model import Model
from core.network import build_network, numpy_copy
from core.optimizers import make_optimizer
from core.preprocessing import StandardizedRows
from core.schedules import make_schedule
from core.training import EpochReport, Trainer


@dataclass
class FitResult:
    """What a run produced.

    ``stopped`` is True when ``on_epoch`` or ``should_stop`` ended the run
    early; ``early_stopped`` when early stopping did (then ``best_epoch`` is
    the epoch whose weights the model holds, if ``restore_best``).
    ``test_metrics`` (``loss`` and ``accuracy``, or ``loss``, ``rmse`` and
    ``r2``) and, for classification, ``confusion_matrix`` (rows true class,
    columns predicted, in ``model.classes`` order) describe the test split
    when ``training.test_split`` > 0 and the run was not stopped.
    """

    model: Model
    history: list[dict[str, float]]
    stopped: bool
    epochs_run: int
    early_stopped: bool = False
    best_epoch: int | None = None
    test_metrics: dict[str, float] | None = None
    confusion_matrix: list[list[int]] | None = None


def fit(
    x,
    y,
    config: FitConfig,
    on_epoch: Callable[[EpochReport], bool | None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    checkpoint: bytes | None = None,
) -> FitResult:
    """Train the network ``config`` describes on ``x`` and ``y``.

    Parameters
    ----------
    x : array of shape (n_rows, n_features)
        Raw features, any numeric dtype, all finite.
    y : array of shape (n_rows,)
        Raw targets: any sortable labels for classification, numbers for
        regression.
    config : FitConfig
        Validated here against the data.
    on_epoch : callable, optional
        Called with each epoch's ``EpochReport``; returning True stops the run.
    should_stop : callable, optional
        Checked before every mini-batch; returning True stops the run at once.
    checkpoint : bytes, optional
        An ``EpochReport.checkpoint()`` of this same run, to resume from.

    Returns
    -------
    FitResult

    Raises
    ------
    ConfigError
        If the configuration does not fit the data, or names device "gpu"
        where CuPy or a CUDA device is missing.
    DivergedError
        If a loss or weight becomes non-finite.
    ValueError
        For malformed arrays or a checkpoint from another run.
    """
    if isinstance(config, dict):
        config = FitConfig.from_dict(config)
    data = prepare_data(x, y, config)
    try:
        xp = device_xp(config.device)
    except ValueError as exc:
        raise ConfigError("device", str(exc)) from exc
    data = _to_device(data, xp)
    seed = config.training.seed
    # One stream per purpose, so adding dropout never changes the shuffling.
    init_rng = np.random.default_rng([seed, 1])
    shuffle_rng = np.random.default_rng([seed, 2])
    dropout_rng = np.random.default_rng([seed, 3])
    network = build_network(config, data.n_features, init_rng, dropout_rng, xp)
    loss = make_loss(config.loss, config.loss_options, np.dtype(config.dtype), xp)
    flat = (network.flat_params, network.flat_grads)
    optimizer = make_optimizer(
        config.optimizer, network.params(), network.grads(), flat
    )
    schedule = make_schedule(
        config.schedule, config.optimizer.learning_rate, config.training.epochs
    )
    trainer = Trainer(
        network, loss, optimizer, schedule, config, data, (shuffle_rng, dropout_rng)
    )
    trainer.save_checkpoint = lambda epoch: save_checkpoint(trainer, data, config)
    if checkpoint is not None:
        restore_checkpoint(checkpoint, trainer, data, config)

    stopped = trainer.run(on_epoch, should_stop)
    test_metrics = confusion = None
    if data.test is not None and not stopped:
        with np.errstate(all="ignore"):
            test_metrics = trainer.evaluator.evaluate("test", trainer.epoch)
            confusion = trainer.evaluator.confusion()
    classes = None if data.encoder is None else data.encoder.classes
    if xp is not np:
        network = numpy_copy(network, config, data.n_features)
    model = Model(
        network,
        data.standardizer,
        config,
        data.n_features,
        classes,
        data.target_mean,
        data.target_scale,
        table_encoder=data.table_encoder,
    )
    stopping = trainer.stopping
    return FitResult(
        model=model,
        history=trainer.history,
        stopped=stopped,
        epochs_run=trainer.epoch,
        early_stopped=trainer.finished,
        best_epoch=None if stopping is None else stopping.best_epoch,
        test_metrics=test_metrics,
        confusion_matrix=confusion,
    )


def _to_device(data: Dataset, xp) -> Dataset:
    # Features and targets move; ``truth`` stays NumPy for the metrics.
    if xp is np:
        return data
    moved = {}
    for name in ("train", "validation", "test"):
        split = getattr(data, name)
        if split is not None:
            x = split.x
            if isinstance(x, StandardizedRows):
                x = x.materialize()  # standardised once, on the host
            moved[name] = Split(xp.asarray(x), xp.asarray(split.target), split.truth)
    return replace(data, **moved)
