import numpy as np
import pytest

from core.optimizers import SGD, Adagrad, Adam, RMSprop


def _setup(seed=0, shape=(3, 2)):
    rng = np.random.default_rng(seed)
    params = {
        "layers.0.weight": rng.normal(size=shape),
        "layers.0.bias": rng.normal(size=2),
    }
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    steps = [
        {name: rng.normal(size=p.shape) for name, p in params.items()}
        for _ in range(20)
    ]
    return params, grads, steps


def _run(optimizer, grads, steps):
    for step in steps:
        for name, g in step.items():
            grads[name][...] = g
        optimizer.step()


def test_sgd_momentum_matches_the_textbook_formula():
    # velocity = momentum * velocity + grad; weight -= lr * velocity (PyTorch's form).
    params, grads, steps = _setup()
    expected = {name: p.copy() for name, p in params.items()}
    velocity = {name: np.zeros_like(p) for name, p in params.items()}
    _run(SGD(params, grads, lr=0.05, momentum=0.9), grads, steps)
    for step in steps:
        for name, g in step.items():
            velocity[name] = 0.9 * velocity[name] + g
            expected[name] -= 0.05 * velocity[name]
    for name in params:
        np.testing.assert_allclose(params[name], expected[name], rtol=1e-12)


def test_adam_matches_the_textbook_formula():
    # Adam with bias correction, m/v/t as in Kingma and Ba (2015), PyTorch's epsilon.
    params, grads, steps = _setup()
    expected = {name: p.copy() for name, p in params.items()}
    m = {name: np.zeros_like(p) for name, p in params.items()}
    v = {name: np.zeros_like(p) for name, p in params.items()}
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    optimizer = Adam(params, grads, lr=lr, beta1=b1, beta2=b2, epsilon=eps)
    _run(optimizer, grads, steps)
    for t, step in enumerate(steps, start=1):
        for name, g in step.items():
            m[name] = b1 * m[name] + (1 - b1) * g
            v[name] = b2 * v[name] + (1 - b2) * g * g
            m_hat, v_hat = m[name] / (1 - b1**t), v[name] / (1 - b2**t)
            expected[name] -= lr * m_hat / (np.sqrt(v_hat) + eps)
    assert optimizer.t == 20
    for name in params:
        np.testing.assert_allclose(params[name], expected[name], rtol=1e-10)


def test_optimizer_state_round_trips():
    # state_dict/load_state_dict restore velocity, m, v and t exactly.
    params, grads, steps = _setup()
    first = Adam(params, grads, lr=0.01)
    _run(first, grads, steps[:5])
    arrays, scalars = first.state_dict()
    arrays = {k: a.copy() for k, a in arrays.items()}
    second = Adam({k: p.copy() for k, p in params.items()}, grads, lr=0.01)
    second.load_state_dict(arrays, scalars)
    assert second.t == 5
    for key, array in second.state_dict()[0].items():
        np.testing.assert_array_equal(array, arrays[key])


def _torch_pair(name, torch, params_t, options):
    if name == "sgd":
        return torch.optim.SGD(params_t, **options)
    if name == "adam":
        return torch.optim.Adam(params_t, **options)
    if name == "adamw":
        return torch.optim.AdamW(params_t, **options)
    if name == "rmsprop":
        return torch.optim.RMSprop(params_t, **options)
    return torch.optim.Adagrad(params_t, **options)


TORCH_CASES = [
    ("sgd", lambda p, g: SGD(p, g, 0.05), {"lr": 0.05}),
    ("sgd", lambda p, g: SGD(p, g, 0.05, momentum=0.9), {"lr": 0.05, "momentum": 0.9}),
    (
        "sgd",
        lambda p, g: SGD(p, g, 0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    ),
    ("adam", lambda p, g: Adam(p, g, 0.01), {"lr": 0.01}),
    (
        "adam",
        lambda p, g: Adam(p, g, 0.01, 0.8, 0.99, 1e-6, weight_decay=0.1),
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    ),
    (
        "adamw",
        lambda p, g: Adam(p, g, 0.01, weight_decay=0.05, decoupled=True),
        {"lr": 0.01, "weight_decay": 0.05},
    ),
    ("rmsprop", lambda p, g: RMSprop(p, g, 0.01), {"lr": 0.01, "eps": 1e-8}),
    (
        "rmsprop",
        lambda p, g: RMSprop(p, g, 0.01, alpha=0.9, momentum=0.5, weight_decay=0.01),
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "weight_decay": 0.01, "eps": 1e-8},
    ),
    ("adagrad", lambda p, g: Adagrad(p, g, 0.1), {"lr": 0.1}),
    (
        "adagrad",
        lambda p, g: Adagrad(p, g, 0.1, epsilon=1e-8, weight_decay=0.01),
        {"lr": 0.1, "eps": 1e-8, "weight_decay": 0.01},
    ),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, make, options", TORCH_CASES)
def test_optimizer_matches_torch_for_20_steps(name, make, options):
    # Same weights, same gradients, 20 steps: the weights agree with torch.optim.
    torch = pytest.importorskip("torch")
    params, grads, steps = _setup()
    params_t = [torch.tensor(p.copy(), requires_grad=True) for p in params.values()]
    ours = make(params, grads)
    theirs = _torch_pair(name, torch, params_t, options)
    for step in steps:
        for (name_, g), p_t in zip(step.items(), params_t, strict=True):
            grads[name_][...] = g
            p_t.grad = torch.tensor(g)
        ours.step()
        theirs.step()
        for p, p_t in zip(params.values(), params_t, strict=True):
            np.testing.assert_allclose(p, p_t.detach().numpy(), rtol=1e-6, atol=1e-12)
