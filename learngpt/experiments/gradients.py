"""9b's first measure: how a gradient shrinks through a deep stack, with and without LayerNorm.

The course's tests (test_9) call it; learngpt/evidence/layer_norm.py shows it beside the stacks.
"""

from __future__ import annotations

import torch
from torch import nn

from learngpt.course import LayerNorm


def gradient_ratio(n_layers: int, width: int, layer_norm: bool, seed: int = 0) -> float:
    """|gradient of the first layer| / |gradient of the last layer| in a deep tanh network.

    The network is n_layers x (Linear -> [LayerNorm] -> tanh), regressing random targets. With
    PyTorch's default initialisation each Linear shrinks its input (weights of variance
    1 / (3 * fan_in)), so without normalisation the signal, and on the way back the gradient,
    shrinks layer after layer: the first layers hardly learn (the gradient vanishes). A
    LayerNorm after each Linear rescales the signal to unit variance, and its backward pass
    scales the gradient up by the same factor.
    """
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for _ in range(n_layers):
        layers.append(nn.Linear(width, width))
        if layer_norm:
            layers.append(LayerNorm(width))
        layers.append(nn.Tanh())
    net = nn.Sequential(*layers)
    x, target = torch.randn(64, width), torch.randn(64, width)
    nn.functional.mse_loss(net(x), target).backward()
    linears = [m for m in net if isinstance(m, nn.Linear)]
    return (linears[0].weight.grad.norm() / linears[-1].weight.grad.norm()).item()
