import numpy as np
import pytest

from core.config import ScheduleConfig
from core.schedules import make_schedule

EPOCHS = 30


def _our_rates(config, metrics=None, lr=0.1):
    schedule = make_schedule(config, lr, EPOCHS)
    rates = []
    for epoch in range(EPOCHS):
        rates.append(schedule.lr(epoch))
        if metrics is not None:
            schedule.observe(epoch, {config.metric: metrics[epoch]})
    return rates


def _torch_rates(torch, make, metrics=None, lr=0.1):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make(torch.optim.lr_scheduler, optimizer)
    rates = []
    for epoch in range(EPOCHS):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step(metrics[epoch]) if metrics is not None else scheduler.step()
    return rates


@pytest.mark.torch
@pytest.mark.parametrize(
    "config, make",
    [
        (
            ScheduleConfig("step", step_size=4, gamma=0.5),
            lambda s, o: s.StepLR(o, 4, 0.5),
        ),
        (
            ScheduleConfig("exponential", gamma=0.9),
            lambda s, o: s.ExponentialLR(o, 0.9),
        ),
        (
            ScheduleConfig("cosine", t_max=10, min_lr=0.01),
            lambda s, o: s.CosineAnnealingLR(o, 10, 0.01),
        ),
        (
            ScheduleConfig("cosine", t_max=7, restarts=True),
            lambda s, o: s.CosineAnnealingWarmRestarts(o, 7),
        ),
        (
            ScheduleConfig("cosine", t_max=3, restarts=True, t_mult=2, min_lr=0.001),
            lambda s, o: s.CosineAnnealingWarmRestarts(o, 3, 2, 0.001),
        ),
    ],
)
def test_schedule_matches_torch_lr_scheduler(config, make):
    # Each closed form equals PyTorch's scheduler after the same number of steps.
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(_our_rates(config), _torch_rates(torch, make), rtol=1e-9)


@pytest.mark.torch
@pytest.mark.parametrize(
    "metric, mode, values",
    [
        ("val_loss", "min", [1.0, 0.9, 0.9, 0.95, 0.91, 0.85] * 5),
        ("val_accuracy", "max", [0.5, 0.6, 0.6, 0.59, 0.6, 0.7] * 5),
    ],
)
def test_reduce_on_plateau_matches_torch(metric, mode, values):
    # Patience, cooldown, threshold and min_lr behave as ReduceLROnPlateau's.
    torch = pytest.importorskip("torch")
    config = ScheduleConfig(
        "reduce_on_plateau",
        metric=metric,
        factor=0.5,
        patience=1,
        cooldown=2,
        min_lr=0.01,
    )

    def make(s, o):
        return s.ReduceLROnPlateau(
            o, mode, factor=0.5, patience=1, cooldown=2, min_lr=0.01
        )

    ours = _our_rates(config, values)
    np.testing.assert_allclose(ours, _torch_rates(torch, make, values), rtol=1e-12)
    assert min(ours) < 0.1


@pytest.mark.torch
def test_warmup_matches_torch_linear_lr():
    # Warmup ramps lr_init * (epoch + 1) / w, LinearLR from 1/w over w - 1 steps.
    torch = pytest.importorskip("torch")
    config = ScheduleConfig("constant", warmup_epochs=5)

    def make(s, o):
        return s.LinearLR(o, start_factor=1 / 5, end_factor=1.0, total_iters=4)

    np.testing.assert_allclose(
        _our_rates(config), _torch_rates(torch, make), rtol=1e-12
    )


def test_warmup_then_step_counts_from_the_end_of_warmup():
    # After w warmup epochs the main schedule starts at its own epoch 0.
    rates = _our_rates(ScheduleConfig("step", step_size=2, gamma=0.1, warmup_epochs=2))
    np.testing.assert_allclose(rates[:6], [0.05, 0.1, 0.1, 0.1, 0.01, 0.01])


def test_cosine_defaults_to_the_epochs_after_warmup():
    # Without t_max the cosine reaches min_lr exactly at the last epoch + 1.
    schedule = make_schedule(ScheduleConfig("cosine", warmup_epochs=5), 0.1, EPOCHS)
    assert schedule.lr(5) == 0.1
    assert schedule.lr(EPOCHS) == pytest.approx(0.0, abs=1e-15)
