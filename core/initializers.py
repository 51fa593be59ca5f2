"""Weight initialisers, drawn from a seeded NumPy generator in the run's dtype.

Each takes ``(rng, fan_in, fan_out, dtype)`` and returns a ``(fan_in,
fan_out)`` array. Biases always start at zero. Unless a layer or the network
names one, layers followed by a ReLU-like activation get ``he_normal``
(variance 2/fan_in keeps the activations' scale through ReLUs, He et al.
2015) and every other layer ``xavier_uniform`` (Glorot and Bengio 2010).
"""

import math

import numpy as np

RELU_LIKE = ("relu", "leaky_relu", "elu", "gelu")


def he_normal(rng, fan_in, fan_out, dtype):
    """Normal with std sqrt(2 / fan_in)."""
    std = math.sqrt(2.0 / fan_in)
    return rng.standard_normal((fan_in, fan_out), dtype=dtype) * dtype.type(std)


def he_uniform(rng, fan_in, fan_out, dtype):
    """Uniform in +-sqrt(6 / fan_in)."""
    return _uniform(rng, math.sqrt(6.0 / fan_in), fan_in, fan_out, dtype)


def xavier_normal(rng, fan_in, fan_out, dtype):
    """Normal with std sqrt(2 / (fan_in + fan_out))."""
    std = math.sqrt(2.0 / (fan_in + fan_out))
    return rng.standard_normal((fan_in, fan_out), dtype=dtype) * dtype.type(std)


def xavier_uniform(rng, fan_in, fan_out, dtype):
    """Uniform in +-sqrt(6 / (fan_in + fan_out))."""
    return _uniform(rng, math.sqrt(6.0 / (fan_in + fan_out)), fan_in, fan_out, dtype)


def lecun_normal(rng, fan_in, fan_out, dtype):
    """Normal with std sqrt(1 / fan_in)."""
    std = math.sqrt(1.0 / fan_in)
    return rng.standard_normal((fan_in, fan_out), dtype=dtype) * dtype.type(std)


def zeros(rng, fan_in, fan_out, dtype):
    """All zeros."""
    return np.zeros((fan_in, fan_out), dtype=dtype)


INITIALIZERS = {
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "lecun_normal": lecun_normal,
    "zeros": zeros,
}


def resolve_init(layer_init: str | None, network_init: str | None, activation: str):
    """Name the initialiser: the layer's, else the network's, else by activation."""
    if layer_init is not None:
        return layer_init
    if network_init is not None:
        return network_init
    return "he_normal" if activation in RELU_LIKE else "xavier_uniform"


def _uniform(rng, limit, fan_in, fan_out, dtype):
    draws = rng.random((fan_in, fan_out), dtype=dtype)  # in [0, 1)
    return (draws * dtype.type(2.0) - dtype.type(1.0)) * dtype.type(limit)
