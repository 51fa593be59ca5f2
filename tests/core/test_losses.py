import numpy as np
import pytest
from gradcheck import numerical_gradient

from core.config import LossOptions
from core.losses import LOSSES, BinaryCrossEntropy, CrossEntropy, make_loss


def test_binary_cross_entropy_from_logit_at_saturation():
    # C2: target 0, logit 40 gives loss exactly 40.0 and gradient exactly 1.0.
    loss = BinaryCrossEntropy()
    value = loss.forward(np.array([[40.0]]), np.array([[0.0]]))
    assert value == 40.0
    assert loss.backward().tolist() == [[1.0]]


def test_binary_cross_entropy_extreme_logits_are_finite():
    # Logits of +-1e4 (sigmoid rounds to 0 or 1) still give finite losses.
    loss = BinaryCrossEntropy()
    scores = np.array([[1e4], [-1e4], [37.0], [-37.0]])
    value = loss.forward(scores, np.array([[0.0], [1.0], [1.0], [0.0]]))
    assert value == pytest.approx((1e4 + 1e4 + 2 * np.log1p(np.exp(-37.0))) / 4)
    assert np.isfinite(loss.backward()).all()


def test_cross_entropy_large_logits_are_exact():
    # C1 through the loss: the right class at logit 1000 costs 0, a wrong one 999.
    loss = CrossEntropy()
    scores = np.array([[1.0, -10.0, 1000.0], [1.0, -10.0, 1000.0]])
    value = loss.forward(scores, np.array([2, 0]))
    assert value == (0.0 + 999.0) / 2
    assert loss.backward().tolist() == [[0.0, 0.0, 0.0], [-0.5, 0.0, 0.5]]


def _loss_case(name, rng):
    if name == "cross_entropy":
        return rng.normal(size=(5, 3)), np.array([0, 2, 1, 2, 0])
    if name == "binary_cross_entropy":
        return rng.normal(size=(5, 1)) * 3, rng.integers(0, 2, size=(5, 1)) * 1.0
    return rng.normal(size=(5, 2)), rng.normal(size=(5, 2))


@pytest.mark.parametrize(
    "name, options",
    [(name, LossOptions()) for name in sorted(LOSSES)]
    + [
        ("huber", LossOptions(delta=0.3)),
        ("cross_entropy", LossOptions(label_smoothing=0.2)),
        ("cross_entropy", LossOptions(class_weights=(0.5, 2.0, 1.0))),
        ("cross_entropy", LossOptions(label_smoothing=0.1, class_weights=(1, 3, 0.2))),
    ],
)
def test_loss_gradient_matches_finite_differences(name, options):
    # Each loss's backward is the derivative of its forward (float64).
    rng = np.random.default_rng(3)
    scores, target = _loss_case(name, rng)
    loss = make_loss(name, options, np.float64, np)

    loss.forward(scores, target)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss.forward(scores, target), scores)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_mse_is_mean_over_batch_and_outputs():
    # mse reduces like PyTorch's 'mean': over every element, not per row.
    loss = LOSSES["mse"]()
    value = loss.forward(np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((2, 2)))
    assert value == (1 + 4 + 9 + 16) / 4


def test_loss_refuses_a_target_that_would_broadcast():
    # A (batch,) target against (batch, 1) scores is an error, not a (batch, batch).
    with pytest.raises(ValueError, match="shape"):
        LOSSES["mse"]().forward(np.zeros((4, 1)), np.zeros(4))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_keeps_float32(name):
    # Gradients come back in the scores' dtype.
    scores, target = _loss_case(name, np.random.default_rng(0))
    scores = scores.astype(np.float32)
    if name != "cross_entropy":
        target = target.astype(np.float32)
    loss = make_loss(name, LossOptions(), np.float32, np)
    loss.forward(scores, target)
    assert loss.backward().dtype == np.float32
