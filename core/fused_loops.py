"""Compiled loops: each reads its arrays once where NumPy would pass many times.

Numba compiles these on first call, once per process and dtype (about 0.4 s
each on a 2-core machine). Only ``core.fused`` imports this module, and only
when a loop is first needed, so a process that never trains never loads the
compiler. ``nogil`` lets other threads run meanwhile; ``error_model="numpy"``
drops Python's division-by-zero check, which would stop LLVM vectorising.
Without ``fastmath`` the arithmetic is IEEE, operation for operation, so each
loop but ``column_moments`` (a different summation, see ``core.fused``) gives
the same bits as the NumPy expressions it replaces.
"""

import math

import numba
import numpy as np

from core.fused import LEAKY_RELU, RELU

jit = numba.njit(nogil=True, error_model="numpy", cache=False)


@jit
def adam(param, grad, m, v, update, keep, beta1, c1, beta2, c2, step, eps, l2, decay):
    # c1 = 1 - beta1 and c2 = 1 - beta2, rounded once to the array dtype as
    # NumPy rounds a Python float; the branches on keep, l2 and decay are
    # hoisted. Without keep the update is not stored: a fifth less memory
    # traffic.
    for i in range(param.size):
        g = grad[i]
        if l2 != 0:
            g = g + param[i] * l2
        m_i = m[i] * beta1 + g * c1
        v_i = v[i] * beta2 + g * g * c2
        m[i] = m_i
        v[i] = v_i
        u = m_i / (math.sqrt(v_i) + eps) * step
        if decay != 0:
            u = u + param[i] * decay
        if keep:
            update[i] = u
        param[i] -= u


@jit
def standardize_rows(x, rows, mean, scale, out):
    for k in range(rows.size):
        row = x[rows[k]]
        for j in range(row.size):
            out[k, j] = (row[j] - mean[j]) / scale[j]


@jit
def column_moments(x, rows, block, mean, m2):
    # Chan, Golub and LeVeque's pairwise update: each block of rows gets an
    # exact two-pass mean and sum of squared deviations while it sits in the
    # cache, then joins the running totals; x is read from memory once.
    n_features = x.shape[1]
    block_mean = np.empty(n_features)
    block_m2 = np.empty(n_features)
    count = 0
    for start in range(0, rows.size, block):
        stop = min(start + block, rows.size)
        size = stop - start
        block_mean[:] = 0.0
        for k in range(start, stop):
            row = x[rows[k]]
            for j in range(n_features):
                block_mean[j] += row[j]
        block_mean /= size
        block_m2[:] = 0.0
        for k in range(start, stop):
            row = x[rows[k]]
            for j in range(n_features):
                d = row[j] - block_mean[j]
                block_m2[j] += d * d
        total = count + size
        weight = count * size / total
        for j in range(n_features):
            delta = block_mean[j] - mean[j]
            mean[j] += delta * size / total
            m2[j] += block_m2[j] + delta * delta * weight
        count = total


@jit
def dense_forward(x, mean, scale, flat, shapes, kinds, slopes):
    # Each layer: h @ weight through BLAS (NumPy's call: numba's np.dot reaches
    # SciPy's BLAS), then bias and activation in one loop over the output.
    h = (x - mean) / scale  # (rows, features)
    offset = 0
    for k in range(shapes.shape[0]):
        n_in, n_out = shapes[k, 0], shapes[k, 1]
        weight = flat[offset : offset + n_in * n_out].reshape((n_in, n_out))
        offset += n_in * n_out
        bias = flat[offset : offset + n_out]
        offset += n_out
        z = np.dot(h, weight)  # (rows, n_out)
        kind, slope, zero = kinds[k], slopes[k], flat.dtype.type(0)
        for r in range(z.shape[0]):
            for j in range(n_out):
                value = z[r, j] + bias[j]
                if kind == RELU and value <= zero:
                    value = zero
                elif kind == LEAKY_RELU and value * slope > value:
                    value = value * slope
                z[r, j] = value
        h = z
    return h


@jit
def softmax_rows(scores):
    # Each row's arg-max (the first, as np.argmax) and its softmax in float64,
    # shifted by the row's maximum so that exp never overflows.
    n_rows, n_classes = scores.shape
    codes = np.empty(n_rows, np.int64)
    probabilities = np.empty((n_rows, n_classes))
    for r in range(n_rows):
        best = 0
        for j in range(1, n_classes):
            if scores[r, j] > scores[r, best]:
                best = j
        codes[r] = best
        top = np.float64(scores[r, best])
        total = 0.0
        for j in range(n_classes):
            e = math.exp(np.float64(scores[r, j]) - top)
            probabilities[r, j] = e
            total += e
        for j in range(n_classes):
            probabilities[r, j] /= total
    return codes, probabilities


@jit
def relu_inplace(x):
    # np.maximum(x, 0) as NumPy 2.4 computes it: NaN stays, -0.0 becomes 0.0.
    flat, zero = x.reshape(-1), x.dtype.type(0)
    for i in range(flat.size):
        if flat[i] <= zero:
            flat[i] = zero


@jit
def relu_backward_inplace(grad_out, a):
    # grad_out * (a > 0), with the multiplication kept where a <= 0 so that
    # signed zeros and NaN come out as NumPy's.
    flat, mask, zero = grad_out.reshape(-1), a.reshape(-1), a.dtype.type(0)
    for i in range(flat.size):
        if not mask[i] > zero:
            flat[i] = flat[i] * zero


@jit
def add_rows(z, bias):
    for r in range(z.shape[0]):
        row = z[r]
        for j in range(row.size):
            row[j] += bias[j]
