import numpy as np
from gradcheck import dense_spec

from core import FitConfig, fit


def test_c1_unscaled_softmax_with_a_large_learning_rate_stays_finite():
    # C1: raw features of 500-5000, SGD at 1.0, no scaling: finite losses, and
    # probabilities that are finite and sum to 1 within 1e-12.
    x = np.array(
        [
            [500, 4000],
            [800, 5000],
            [2500, 2500],
            [3000, 2000],
            [4500, 600],
            [5000, 900],
        ],
        dtype=float,
    )
    y = np.array([0, 0, 1, 1, 2, 2])
    spec = dense_spec(
        (3, "softmax"),
        optimizer={"name": "sgd", "learning_rate": 1.0},
        training={"epochs": 20, "validation_split": 0.0, "standardize": False},
    )
    result = fit(x, y, FitConfig.from_dict(spec))
    assert len(result.history) == 20
    assert all(np.isfinite(h["loss"]) for h in result.history)
    probabilities = result.model.predict(x).probabilities
    assert np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_c2_binary_cross_entropy_on_a_huge_unscaled_feature_stays_finite():
    # C2: one raw feature in [-20000, 20000], a 0/1 target on both sides, a
    # sigmoid unit: the logits saturate but losses and weights stay finite.
    rng = np.random.default_rng(0)
    x = rng.uniform(-20000, 20000, size=(40, 1))
    y = (x[:, 0] > 0).astype(int)
    y[:4] = 1 - y[:4]  # mixed on both sides
    spec = dense_spec(
        (1, "sigmoid"),
        loss="binary_cross_entropy",
        optimizer={"name": "sgd", "learning_rate": 1.0},
        training={"epochs": 3, "validation_split": 0.0, "standardize": False},
    )
    result = fit(x, y, FitConfig.from_dict(spec))
    assert all(np.isfinite(h["loss"]) for h in result.history)
    assert all(np.isfinite(a).all() for a in result.model.network.state().values())
