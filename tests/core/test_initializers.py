import numpy as np
import pytest
from gradcheck import numerical_gradient

from core.config import FitConfig
from core.gradients import apply_penalty
from core.initializers import INITIALIZERS, resolve_init
from core.network import build_network

FAN_IN, FAN_OUT = 400, 300
EXPECTED_STD = {
    "he_normal": np.sqrt(2 / FAN_IN),
    "he_uniform": np.sqrt(2 / FAN_IN),
    "xavier_normal": np.sqrt(2 / (FAN_IN + FAN_OUT)),
    "xavier_uniform": np.sqrt(2 / (FAN_IN + FAN_OUT)),
    "lecun_normal": np.sqrt(1 / FAN_IN),
    "zeros": 0.0,
}


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initializer_has_its_documented_scale(name, dtype):
    # Each initialiser's spread matches its formula, in the requested dtype.
    weight = INITIALIZERS[name](
        np.random.default_rng(0), FAN_IN, FAN_OUT, np.dtype(dtype)
    )
    assert weight.dtype == dtype and weight.shape == (FAN_IN, FAN_OUT)
    assert weight.std() == pytest.approx(EXPECTED_STD[name], rel=0.02, abs=1e-12)
    assert abs(weight.mean()) < 0.01


def test_init_precedence_layer_then_network_then_activation():
    # A layer's init beats the network's, which beats the activation default.
    assert resolve_init("zeros", "he_uniform", "relu") == "zeros"
    assert resolve_init(None, "he_uniform", "tanh") == "he_uniform"
    assert resolve_init(None, None, "relu") == "he_normal"
    assert resolve_init(None, None, "leaky_relu") == "he_normal"
    assert resolve_init(None, None, "tanh") == "xavier_uniform"
    spec = {
        "network": {
            "layers": [
                {"units": 4, "activation": "relu", "init": "zeros"},
                {"units": 3, "activation": "softmax"},
            ],
            "init": "lecun_normal",
        }
    }
    network = build_network(FitConfig.from_dict(spec), 5, np.random.default_rng(0))
    assert not network.layers[0].weight.any() and network.layers[2].weight.any()
    assert not network.layers[0].bias.any() and not network.layers[2].bias.any()


def test_weight_penalty_gradient_matches_finite_differences():
    # l1 * sum|w| + l2 * sum w^2 adds l1 * sign(w) + 2 * l2 * w to the gradient.
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(4, 3))

    def penalty():
        return apply_penalty([(weight, np.zeros_like(weight))], 0.3, 0.7)

    grad = np.zeros_like(weight)
    value = apply_penalty([(weight, grad)], 0.3, 0.7)
    assert value == pytest.approx(0.3 * np.abs(weight).sum() + 0.7 * (weight**2).sum())
    np.testing.assert_allclose(grad, numerical_gradient(penalty, weight), rtol=1e-6)
