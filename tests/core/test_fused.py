"""The compiled loops give the bits of the NumPy expressions they replace."""

import numpy as np
import pytest

from core import fused
from core.optimizers import Adam
from core.preprocessing import StandardizedRows, Standardizer


def _adam_run(enabled, dtype, decay, decoupled, monkeypatch):
    monkeypatch.setattr(fused, "ENABLED", enabled)
    rng = np.random.default_rng(3)
    flat_params = rng.normal(size=40).astype(dtype)
    flat_grads = np.zeros_like(flat_params)
    params = {"w": flat_params[:30].reshape(6, 5), "b": flat_params[30:]}
    grads = {"w": flat_grads[:30].reshape(6, 5), "b": flat_grads[30:]}
    optimizer = Adam(
        params,
        grads,
        lr=0.01,
        weight_decay=decay,
        decoupled=decoupled,
        flat=(flat_params, flat_grads),
    )
    for step in range(20):
        flat_grads[:] = rng.normal(size=40)
        # Updates unstored on most steps, as training does; the last is kept.
        updates = optimizer.step(keep_updates=step % 7 == 5 or step == 19)
    arrays, _ = optimizer.state_dict()
    return flat_params, arrays, updates


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "decay, decoupled", [(0.0, False), (0.05, False), (0.05, True)]
)
def test_adam_loop_gives_the_numpy_bits(dtype, decay, decoupled, monkeypatch):
    # Same parameters, m, v and last update, bit for bit, with and without the
    # loop, for plain Adam, L2 decay and AdamW's decoupled decay.
    numpy = _adam_run(False, dtype, decay, decoupled, monkeypatch)
    compiled = _adam_run(True, dtype, decay, decoupled, monkeypatch)
    np.testing.assert_array_equal(compiled[0], numpy[0])
    for key in numpy[1]:
        np.testing.assert_array_equal(compiled[1][key], numpy[1][key])
    for key in numpy[2]:
        np.testing.assert_array_equal(compiled[2][key], numpy[2][key])
    assert compiled[0].dtype == dtype


def test_adam_loop_without_updates_changes_only_what_it_must():
    # update=None applies the step unstored: the same param, m and v bits as
    # a stored step, and no other array is written.
    rng = np.random.default_rng(5)
    param, grad = rng.normal(size=(2, 33)).astype(np.float32)
    kept = [param.copy(), grad, np.full(33, 0.1, np.float32), np.ones(33, np.float32)]
    lean = [a.copy() for a in kept]
    update = np.zeros(33, np.float32)
    assert fused.adam(*kept, update, 0.9, 0.999, 1e-3, 1e-8, l2=0.01)
    assert fused.adam(*lean, None, 0.9, 0.999, 1e-3, 1e-8, l2=0.01)
    for got, want in zip(lean, kept, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(param - update, kept[0])


def test_adam_takes_the_numpy_path_once_the_loops_are_turned_off(monkeypatch):
    # ENABLED is read at every step, not only when the optimizer is built.
    params = {"w": np.ones(4, np.float32)}
    grads = {"w": np.full(4, 0.5, np.float32)}
    optimizer = Adam(params, grads, lr=0.1)
    calls = []
    numpy_update = Adam._update
    monkeypatch.setattr(
        Adam, "_update", lambda self, *a: calls.append(1) or numpy_update(self, *a)
    )
    optimizer.step()
    assert calls == []
    monkeypatch.setattr(fused, "ENABLED", False)
    optimizer.step()
    assert calls == [1]


def test_adam_loop_declines_what_it_cannot_take():
    # A strided view or mixed dtypes go back to the NumPy expressions.
    a = np.zeros(10)
    assert not fused.adam(a[::2], a[:5], a[:5], a[:5], a[:5], 0.9, 0.999, 1, 1e-8)
    b = np.zeros(5, np.float32)
    assert not fused.adam(b, a[:5], a[:5], a[:5], a[:5], 0.9, 0.999, 1, 1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_standardized_rows_match_transform(dtype):
    # Gathered, sliced and all rows: the same bits as Standardizer.transform.
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(50, 7)) * 4 + 9).astype(dtype)
    standardizer = Standardizer.fit(x)
    train = np.sort(rng.choice(50, 30, replace=False))
    rows = StandardizedRows(x, train, standardizer)
    picks = rng.permutation(30)[:8]
    expected = standardizer.transform(x, train)
    np.testing.assert_array_equal(rows[picks], expected[picks])
    np.testing.assert_array_equal(rows[3:11], expected[3:11])
    every = StandardizedRows(x, None, standardizer)
    np.testing.assert_array_equal(every[10:20], standardizer.transform(x)[10:20])
    assert rows[picks].dtype == dtype


def test_standardize_rows_refuses_rows_outside_x():
    x = np.ones((4, 2))
    with pytest.raises(IndexError, match="outside 0..3"):
        fused.standardize_rows(x, np.array([0, 4]), np.zeros(2), np.ones(2))


def test_column_moments_match_float64_two_pass():
    # Chan's block update against NumPy's exact two passes in float64, for a
    # constant column, a column with one outlier 1e9 and an offset of 1e6.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1000, 4)).astype(np.float32)
    x[:, 1] = 3.7
    x[17, 2] = 1e9
    x[:, 3] += 1e6
    rows = np.sort(rng.choice(1000, 700, replace=False))
    for picked in (None, rows):
        mean, std = fused.column_moments(x, picked)
        reference = x.astype(np.float64) if picked is None else x[rows].astype(float)
        np.testing.assert_allclose(mean, reference.mean(axis=0), rtol=1e-13)
        np.testing.assert_allclose(std, reference.std(axis=0), rtol=1e-12)
        assert std[1] == 0.0


def test_standardizer_is_the_same_with_and_without_the_loop(monkeypatch):
    # The NumPy fallback and the loop agree to float32's last bit on
    # ordinary data (both round float64 statistics to the data's dtype).
    rng = np.random.default_rng(2)
    x = (rng.normal(size=(3000, 9)) * 10 - 4).astype(np.float32)
    compiled = Standardizer.fit(x)
    monkeypatch.setattr(fused, "ENABLED", False)
    numpy = Standardizer.fit(x)
    np.testing.assert_allclose(compiled.mean, numpy.mean, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(compiled.scale, numpy.scale, rtol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_and_bias_loops_give_the_numpy_bits(dtype):
    # Including the edges: -0.0 becomes 0.0 as in NumPy 2.4's maximum, NaN
    # stays NaN, and the backward pass keeps -0.0 where a negative gradient
    # meets a dead unit.
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 5)).astype(dtype)
    x[0, :3] = [-0.0, np.nan, 0.0]
    expected = np.maximum(x, dtype(0))
    assert fused.relu(x)
    np.testing.assert_array_equal(x, expected)
    assert not np.signbit(x[0, 0])

    grad = rng.normal(size=(6, 5)).astype(dtype)
    grad[0, 0] = -1.0
    expected = np.multiply(grad, x > 0)
    assert fused.relu_backward(grad, x)
    assert grad.tobytes() == expected.tobytes()

    bias = rng.normal(size=5).astype(dtype)
    expected = x + bias
    assert fused.add_bias(x, bias)
    np.testing.assert_array_equal(x, expected)


def test_relu_loop_declines_a_strided_view():
    x = np.ones((4, 4))[:, ::2]
    assert not fused.relu(x)
    assert not fused.add_bias(x, np.ones(2))


def test_loops_refuse_indices_and_shapes_that_would_read_other_memory():
    # The compiled loops check no bounds, so their wrappers do: a row outside
    # x, or arrays that do not match, raise instead of reading past the end.
    x = np.ones((4, 3))
    with pytest.raises(IndexError, match="outside 0..3"):
        fused.column_moments(x, np.array([0, 4]))
    with pytest.raises(IndexError, match="outside 0..3"):
        fused.column_moments(x, np.array([-1]))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        fused.standardize_rows(x, np.array([0]), np.zeros(1), np.ones(1))
    a, b = np.zeros(4), np.zeros(1)
    with pytest.raises(ValueError, match="differ in shape"):
        fused.adam(a, b, a.copy(), a.copy(), a.copy(), 0.9, 0.999, 1, 1e-8)


def test_column_moments_are_the_same_for_any_memory_layout():
    # C order, Fortran order and a strided view of the same numbers.
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3000, 5)) * 7 + 2
    c = fused.column_moments(x)
    f = fused.column_moments(np.asfortranarray(x))
    wide = np.zeros((3000, 10))
    wide[:, ::2] = x
    strided = fused.column_moments(wide[:, ::2])
    for other in (f, strided):
        assert c[0].tobytes() == other[0].tobytes()
        assert c[1].tobytes() == other[1].tobytes()
