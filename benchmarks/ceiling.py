"""The GEMM-only ceiling: the matrix products a training step needs, and nothing else.

For layer sizes ``s0 .. sL`` and a batch of ``b`` rows a step computes, per
layer ``i``, the forward product ``h[i+1] = h[i] @ W[i]`` (b, s[i+1]), the
weight gradient ``grad_W[i] = h[i].T @ d[i+1]`` and, above the first layer,
the input gradient ``d[i] = d[i+1] @ W[i].T``. Timing exactly that sequence,
with preallocated outputs, gives the fastest an epoch could possibly run on
this BLAS; a contender's share of the ceiling is ceiling time / its time.
The benchmark times these runs in turn with the contenders, so that both see
the machine in the same state.
"""

import numpy as np


def products(backend: str, sizes, batch: int, n_rows: int, epochs: int):
    """A callable running the products of ``epochs`` epochs of ``n_rows`` rows.

    Each epoch has its full batches and, if ``n_rows`` is no multiple of
    ``batch``, one last smaller one, as training has.
    """
    full, rest = divmod(n_rows, batch)
    step, sync = _step(backend, sizes, batch)
    last = _step(backend, sizes, rest)[0] if rest else None

    def run() -> None:
        for _ in range(epochs):
            for _ in range(full):
                step()
            if last is not None:
                last()
        sync()

    return run


def _step(backend, sizes, batch):
    xp, matmul, sync = _backend(backend)
    rng = np.random.default_rng(0)
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    weights = [
        xp(rng.standard_normal((fan_in, fan_out), dtype=np.float32) * 0.05)
        for fan_in, fan_out in pairs
    ]
    h = [xp(rng.standard_normal((batch, width), dtype=np.float32)) for width in sizes]
    d = [xp(np.zeros((batch, width), dtype=np.float32)) for width in sizes]
    d[-1] = xp(rng.standard_normal((batch, sizes[-1]), dtype=np.float32))
    grads = [xp(np.zeros((fan_in, fan_out), np.float32)) for fan_in, fan_out in pairs]

    def step():
        for i, weight in enumerate(weights):
            matmul(h[i], weight, h[i + 1])
        for i in reversed(range(len(weights))):
            matmul(h[i].T, d[i + 1], grads[i])
            if i:
                matmul(d[i + 1], weights[i].T, d[i])

    return step, sync


def _backend(name):
    if name == "numpy":
        return np.asarray, lambda a, b, out: np.matmul(a, b, out=out), _nothing
    if name in ("torch", "torch-cuda"):
        import torch

        device = "cuda" if name == "torch-cuda" else "cpu"
        sync = torch.cuda.synchronize if device == "cuda" else _nothing
        return (
            lambda a: torch.from_numpy(a).to(device),
            lambda a, b, out: torch.matmul(a, b, out=out),
            sync,
        )
    if name == "cupy":
        import cupy

        return (
            cupy.asarray,
            lambda a, b, out: cupy.matmul(a, b, out=out),
            cupy.cuda.Device().synchronize,
        )
    raise ValueError(f"unknown backend {name!r}")


def _nothing():
    return None
