"""Single-pass versions of the core's hottest array expressions, for NumPy arrays.

NumPy evaluates ``m = beta1*m + (1-beta1)*g`` and the rest of Adam's update
one operation at a time, each a pass over every parameter: twelve passes, 0.78
ms a step for the 536,000 float32 parameters of a 784-512-256-10 network on a
2-core machine, a third of the step. The compiled loop in ``fused_loops``
reads each element once, in 0.15 ms, and gives the same bits. Likewise a
training batch is gathered and standardised in one pass instead of three.

Each function here takes the arrays the NumPy code would and returns False,
doing nothing, when the loops cannot take them (CuPy arrays, a dtype other
than float32 or float64, mixed dtypes, arrays that are not C-contiguous); the
caller then runs its NumPy expressions, which stay the reference.
``ENABLED`` turns the loops off for a comparison.
"""

import time

import numpy as np

from core.backend import Array

ENABLED = True
FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# Elements per block of rows in column_moments: 256 KB of float32, which
# stays in a core's cache for the block's second pass.
BLOCK_ELEMENTS = 2**16

# Activation codes of dense_forward (core.inference).
IDENTITY, RELU, LEAKY_RELU = 0, 1, 2

_loops = None


def adam_loop(param: Array, grad: Array, m: Array, v: Array, update=None):
    """Adam's compiled step bound to these arrays, or None if the loop cannot take them.

    The arrays are checked and flattened once, here, so that a step costs the
    loop and not the checks: a fifth of a step of the 17,000 parameters of a
    64-128-64-10 network. Call the result as ``loop(beta1, beta2, step_size,
    epsilon, l2, decay, keep)``; see ``adam``. With ``keep`` False, or no
    ``update`` array, the update is applied without being stored.
    """
    arrays = (param, grad, m, v) if update is None else (param, grad, m, v, update)
    if not takes(*arrays):
        return None
    if any(a.shape != param.shape for a in arrays):
        raise ValueError(f"Adam's arrays differ in shape from param {param.shape}")
    flat = [a.reshape(-1) for a in (param, grad, m, v)]  # views
    out = flat[0][:0] if update is None else update.reshape(-1)
    kernel, scalar, stores = _compiled().adam, param.dtype.type, update is not None

    def step(beta1, beta2, step_size, epsilon, l2=0.0, decay=0.0, keep=True):
        kernel(
            *flat,
            out,
            keep and stores,
            scalar(beta1),
            scalar(1.0 - beta1),
            scalar(beta2),
            scalar(1.0 - beta2),
            scalar(step_size),
            scalar(epsilon),
            scalar(l2),
            scalar(decay),
        )

    return step


def adam(
    param: Array,
    grad: Array,
    m: Array,
    v: Array,
    update: Array | None,
    beta1: float,
    beta2: float,
    step_size: float,
    epsilon: float,
    l2: float = 0.0,
    decay: float = 0.0,
) -> bool:
    """Adam's step in place: ``m``, ``v``, ``update`` and ``param -= update``.

    The arithmetic is ``core.optimizers.Adam``'s, with its folded bias
    corrections (``step_size``, ``epsilon``), L2 weight decay ``l2`` added to
    the gradient and decoupled decay ``decay`` (the learning rate times the
    weight decay) added to the update. All arrays have one shape. With
    ``update`` None the update is applied without being stored, which spares
    a fifth of the step's memory traffic: 0.30 ms instead of 0.39 for the
    536,000 float32 parameters of a 784-512-256-10 network on a 2-core Xeon.
    Returns False, doing nothing, where the loop cannot take the arrays.
    """
    loop = adam_loop(param, grad, m, v, update)
    if loop is None:
        return False
    loop(beta1, beta2, step_size, epsilon, l2, decay)
    return True


def standardize_rows(x, rows, mean, scale) -> np.ndarray | None:
    """``(x[rows] - mean) / scale`` as a new (len(rows), n_features) array.

    None when the loops cannot take the arrays; ``rows`` is an integer array.
    """
    if not (takes(x, mean, scale) and isinstance(rows, np.ndarray)):
        return None
    if rows.dtype.kind not in "iu" or x.ndim != 2 or len(x) == 0:
        return None
    if not mean.shape == scale.shape == x.shape[1:]:
        raise ValueError(f"mean and scale must have shape {x.shape[1:]}")
    _check_rows(rows, len(x))
    out = np.empty((rows.size, x.shape[1]), x.dtype)
    _compiled().standardize_rows(x, rows, mean, scale, out)
    return out


def column_moments(x, rows=None) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean and standard deviation of each column of ``x[rows]``, in float64.

    ``x`` is (n_rows, n_features); ``rows`` an integer array, or None for all
    rows. x is read once, a block of rows at a time: with the two-pass
    formula over blocks that stay in the cache, 60,000 rows of 784 float32
    features take 15 ms where NumPy's two passes over memory take 90.
    Any memory layout: the same numbers come out of a C- or Fortran-ordered
    copy of the data. None when the loop cannot take ``x``.
    """
    if not ENABLED or type(x) is not np.ndarray or x.dtype not in FLOATS:
        return None
    if x.ndim != 2 or len(x) == 0:
        return None
    rows = np.arange(len(x)) if rows is None else np.asarray(rows)
    if rows.dtype.kind not in "iu" or rows.size == 0:
        return None
    _check_rows(rows, len(x))
    block = max(1, BLOCK_ELEMENTS // max(x.shape[1], 1))
    mean, m2 = np.zeros(x.shape[1]), np.zeros(x.shape[1])
    _compiled().column_moments(x, rows, block, mean, m2)
    return mean, np.sqrt(m2 / rows.size)


def dense_forward(x, mean, scale, flat, shapes, kinds, slopes) -> np.ndarray:
    """Scores of a dense network for rows ``x``; see ``core.inference``.

    The caller checks the arrays once (``takes``): a prediction of one row
    takes 31 microseconds, and checking five arrays each time would add 4.
    """
    return _compiled().dense_forward(x, mean, scale, flat, shapes, kinds, slopes)


def relu(x: Array) -> bool:
    """``x = max(x, 0)`` in place; False, doing nothing, if the loop cannot.

    NumPy 2.4 takes 25 microseconds for ``np.maximum(x, 0, out=x)`` on
    (128, 512) float32 (a scalar operand misses its vectorised path); 3 here.
    """
    if not takes(x):
        return False
    _compiled().relu_inplace(x)
    return True


def relu_backward(grad_out: Array, a: Array) -> bool:
    """``grad_out *= (a > 0)`` in place; False if the loop cannot.

    NumPy multiplies by a boolean mask in two passes and a cast, 17
    microseconds for (128, 512) float32; the loop takes 4.
    """
    if not takes(grad_out, a) or grad_out.shape != a.shape:
        return False
    _compiled().relu_backward_inplace(grad_out, a)
    return True


def add_bias(z: Array, bias: Array) -> bool:
    """``z += bias`` for z (batch, units) in place; False if the loop cannot.

    13 microseconds in NumPy for (128, 512) float32, 3 here.
    """
    if not takes(z, bias) or z.ndim != 2 or bias.shape != z.shape[1:]:
        return False
    _compiled().add_rows(z, bias)
    return True


def softmax_rows(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Each row's arg-max and softmax probabilities (float64), or None.

    ``scores`` is (n_rows, n_classes), finite; the loop reads each row once
    where NumPy's stable softmax takes six calls (5 microseconds for a row).
    """
    if not takes(scores) or scores.ndim != 2 or scores.shape[1] == 0:
        return None
    return _compiled().softmax_rows(scores)


def _check_rows(rows: np.ndarray, n_rows: int) -> None:
    # The loops do not check indices: one outside x would read other memory.
    if rows.size and not (0 <= rows.min() and rows.max() < n_rows):
        raise IndexError(f"row indices outside 0..{n_rows - 1}")


def takes(*arrays) -> bool:
    """Whether the loops can take these arrays: NumPy, C-contiguous, one float dtype."""
    # A plain loop: generator expressions cost microseconds on the one-row path.
    if not ENABLED:
        return False
    dtype = arrays[0].dtype
    if dtype not in FLOATS:
        return False
    for array in arrays:
        if type(array) is not np.ndarray or array.dtype != dtype:
            return False
        if not array.flags.c_contiguous:
            return False
    return True


def _compiled():
    global _loops
    if _loops is None:
        from core import fused_loops

        _loops = fused_loops
    return _loops


def warm_up(dtype="float32", training: bool = True, inference: bool = True) -> float:
    """Compile the loops for ``dtype`` now rather than on their first use.

    Numba compiles a loop on its first call in a process, per dtype: about
    1.3 s for the training loops and as much for the prediction loops on a
    2-core machine, plus 0.25 s to import numba. A worker calls this for the
    default dtype before its pool forks, so that every pool process starts
    with the compiled code and no epoch's time includes compiling; the API
    calls it in the background as it starts. Returns the seconds it took.
    """
    started = time.perf_counter()
    dtype = np.dtype(dtype)
    one, square = np.ones(4, dtype), np.ones((2, 2), dtype)
    if training:
        adam(one.copy(), one, one.copy(), one.copy(), one.copy(), 0.9, 0.9, 1, 1)
        standardize_rows(square, np.arange(2), square[0], square[0])
        column_moments(square)
        relu(square.copy())
        relu_backward(square.copy(), square)
        add_bias(square.copy(), square[0])
    if inference:
        plan = (np.array([[2, 2]]), np.array([RELU]), np.zeros(1, dtype))
        dense_forward(square, square[0], square[0], np.ones(6, dtype), *plan)
        softmax_rows(square)
    return time.perf_counter() - started
