"""Build the PyTorch twin of one of our networks, sharing its weights."""

import numpy as np


def torch_activation(torch, layer_spec):
    nn = torch.nn
    name = layer_spec.activation
    return {
        "relu": lambda: nn.ReLU(),
        "leaky_relu": lambda: nn.LeakyReLU(layer_spec.negative_slope),
        "elu": lambda: nn.ELU(layer_spec.alpha),
        "gelu": lambda: nn.GELU(),
        "sigmoid": lambda: nn.Sigmoid(),
        "tanh": lambda: nn.Tanh(),
        "softmax": lambda: nn.Softmax(dim=1),
        "linear": lambda: nn.Identity(),
    }[name]()


def torch_twin(torch, network, config):
    """nn.Sequential equal to ``network`` (float64), weights copied over.

    Our dense weight is (in, out); torch's Linear holds (out, in).
    """
    nn = torch.nn
    modules = []
    by_name = {layer.name: layer for layer in network.layers}
    specs = config.network.layers
    for i, spec in enumerate(specs):
        ours = by_name[f"layers.{i}"]
        if spec.type == "dropout":
            modules.append(nn.Identity())
            continue
        if spec.type == "batch_norm":
            module = nn.BatchNorm1d(
                len(ours.weight), eps=spec.epsilon, momentum=spec.momentum
            ).double()
            with torch.no_grad():
                module.weight.copy_(torch.tensor(ours.weight))
                module.bias.copy_(torch.tensor(ours.bias))
                module.running_mean.copy_(torch.tensor(ours.running_mean))
                module.running_var.copy_(torch.tensor(ours.running_var))
        else:
            module = nn.Linear(*ours.weight.shape).double()
            with torch.no_grad():
                module.weight.copy_(torch.tensor(np.ascontiguousarray(ours.weight.T)))
                module.bias.copy_(torch.tensor(ours.bias))
        modules.append(module)
        fused = i == len(specs) - 1 and config.loss.endswith("cross_entropy")
        if spec.activation != "linear" and not fused:
            modules.append(torch_activation(torch, spec))
    return nn.Sequential(*modules)


def torch_grads(twin, config):
    """Our parameter names mapped to the twin's gradients, in our layout."""
    grads = {}
    position = 0
    for i, spec in enumerate(config.network.layers):
        module = twin[position]
        position += 1
        if spec.type != "dropout" and spec.activation != "linear":
            fused = i == len(config.network.layers) - 1 and config.loss.endswith(
                "cross_entropy"
            )
            position += 0 if fused else 1
        if spec.type == "dropout":
            continue
        weight = module.weight.grad.numpy()
        grads[f"layers.{i}.weight"] = weight.T if spec.type == "dense" else weight
        grads[f"layers.{i}.bias"] = module.bias.grad.numpy()
    return grads
