"""GradientTrend: warnings for gradients that vanish or explode across layers
for several epochs in a row, and only then."""

from core.diagnosis import GradientTrend


def flow(*norms: float) -> dict[str, dict[str, float]]:
    return {f"layers.{i}": {"grad_norm": norm} for i, norm in enumerate(norms)}


def test_vanishing_warns_once_after_three_epochs_in_a_row() -> None:
    trend = GradientTrend(patience=3)
    shrinking = flow(1e-5, 1e-3, 0.5)
    assert trend.update(1, shrinking) == []
    assert trend.update(2, shrinking) == []
    (warning,) = trend.update(3, shrinking)
    assert warning == (
        "epoch 3: vanishing gradients: layers.0's gradient norm has been 2e-05 "
        "times the output layer's for 3 epochs; use relu with he_normal init, "
        "or add batch_norm"
    )
    assert trend.update(4, shrinking) == []


def test_a_healthy_epoch_resets_the_streak() -> None:
    trend = GradientTrend(patience=2)
    assert trend.update(1, flow(1e-6, 0.5)) == []
    assert trend.update(2, flow(0.1, 0.5)) == []
    assert trend.update(3, flow(1e-6, 0.5)) == []
    assert len(trend.update(4, flow(1e-6, 0.5))) == 1


def test_exploding_compares_the_same_way() -> None:
    trend = GradientTrend(patience=1)
    (warning,) = trend.update(1, flow(5e3, 1.0))
    assert warning.startswith("epoch 1: exploding gradients: layers.0's")


def test_one_layer_or_a_zero_output_gradient_says_nothing() -> None:
    trend = GradientTrend(patience=1)
    assert trend.update(1, flow(1e-9)) == []
    assert trend.update(2, flow(1e-9, 0.0)) == []
