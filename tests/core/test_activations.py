import numpy as np
import pytest
from gradcheck import numerical_gradient

from core.activations import ACTIVATIONS, log_softmax, make_activation, sigmoid, softmax
from core.layers import Activation


def test_softmax_of_large_logits_is_exact():
    # C1: softmax of [1, -10, 1000] is exactly [0, 0, 1], with no overflow warning.
    z = np.array([[1.0, -10.0, 1000.0]])
    assert softmax(z).tolist() == [[0.0, 0.0, 1.0]]


def test_log_softmax_of_large_logits_is_exact():
    # C1: log-softmax of [1, -10, 1000] is exactly [-999, -1010, 0].
    z = np.array([[1.0, -10.0, 1000.0]])
    assert log_softmax(z).tolist() == [[-999.0, -1010.0, 0.0]]


def test_softmax_float32_large_logits_stay_finite():
    # Stability holds in float32 too, where exp overflows already at 89.
    z = np.array([[1.0, -10.0, 1000.0], [5e30, -5e30, 0.0]], dtype=np.float32)
    p = softmax(z)
    assert p.dtype == np.float32
    assert p.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_sigmoid_saturates_without_overflow():
    # exp is only taken of -|z|, so extreme logits give 0 and 1 without warnings.
    z = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    s = sigmoid(z)
    assert s[0] == 0.0 and s[2] == 0.5 and s[4] == 1.0
    np.testing.assert_allclose(s[1], np.exp(-40.0), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradient_matches_finite_differences(name):
    # Each activation's backward is the derivative of its forward (float64).
    rng = np.random.default_rng(0)
    # Keep inputs away from the kinks of relu and leaky_relu at 0.
    x = rng.normal(size=(4, 5))
    x[np.abs(x) < 0.05] += 0.2
    weights = rng.normal(size=(4, 5))
    layer = Activation("act", make_activation(name, negative_slope=0.1, alpha=0.7))

    def loss():
        return float((layer.forward(x.copy()) * weights).sum())

    layer.forward(x.copy())
    analytic = layer.backward(weights.copy())
    np.testing.assert_allclose(
        analytic, numerical_gradient(loss, x), rtol=1e-6, atol=1e-8
    )


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_keeps_dtype(name, dtype):
    # No silent upcast: forward and backward return the input's dtype.
    x = np.linspace(-3, 3, 12, dtype=dtype).reshape(3, 4)
    layer = Activation("act", make_activation(name), inplace=True)
    out = layer.forward(x.copy())
    assert out.dtype == dtype
    assert layer.backward(np.ones_like(out)).dtype == dtype


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "tanh", "softmax", "linear"])
def test_inplace_activation_equals_out_of_place(name):
    # Writing over the input buffer changes nothing in the results.
    rng = np.random.default_rng(1)
    x, grad = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    plain, inplace = (Activation("a", make_activation(name), inplace=f) for f in (0, 1))
    np.testing.assert_array_equal(plain.forward(x.copy()), inplace.forward(x.copy()))
    np.testing.assert_array_equal(
        plain.backward(grad.copy()), inplace.backward(grad.copy())
    )
