"""BatchedMuon is torch.optim.Muon with its Newton-Schulz iterations batched per matrix shape."""

from __future__ import annotations

import pytest
import torch

from learngpt.config import TrainConfig
from learngpt.model import muon_matrices
from learngpt.runs import build_model
from learngpt.training.muon import BatchedMuon, orthogonalize


def train_steps(optimizer_class, steps=4, **options):
    """A recipe-shaped model (tall, wide and square matrices) after `steps` optimizer steps."""
    torch.manual_seed(0)
    model = build_model(TrainConfig().replace(embed_size=32, n_heads=4, block_size=16), 13)
    optimizer = optimizer_class(muon_matrices(model), lr=0.02, **options)
    data = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.randint(13, (4, 16), generator=data)
        optimizer.zero_grad()
        model(x, x.roll(1, dims=1))[1].backward()
        optimizer.step()
    return model, optimizer


@pytest.mark.parametrize(
    "options",
    [
        {"adjust_lr_fn": "match_rms_adamw", "weight_decay": 0.1},
        {"adjust_lr_fn": None, "nesterov": False, "ns_steps": 3, "momentum": 0.9},
    ],
)
def test_batched_muon_trains_exactly_as_torch_muon(options):
    ours, our_optimizer = train_steps(BatchedMuon, **options)
    torchs, torch_optimizer = train_steps(torch.optim.Muon, **options)
    for mine, theirs in zip(ours.parameters(), torchs.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=1e-6)
    # the same state, so checkpoints of one load into the other
    for mine, theirs in zip(
        our_optimizer.state_dict()["state"].values(),
        torch_optimizer.state_dict()["state"].values(),
        strict=True,
    ):
        torch.testing.assert_close(mine["momentum_buffer"], theirs["momentum_buffer"])


def test_orthogonalize_pushes_every_singular_value_towards_one():
    u, _, v = torch.linalg.svd(torch.randn(3, 16, 48), full_matrices=False)
    wide = u @ torch.diag(torch.logspace(-1.5, 1, 16)) @ v  # singular values 0.03 to 10
    singular = torch.linalg.svdvals(orthogonalize(wide, (3.4445, -4.7750, 2.0315), 5, 1e-7).float())
    assert singular.min() > 0.6 and singular.max() < 1.3


def test_a_matrix_without_a_gradient_is_left_alone():
    model = build_model(TrainConfig().replace(embed_size=32, n_heads=4, block_size=16), 13)
    frozen, trained = muon_matrices(model)[:2]
    before = frozen.detach().clone()
    optimizer = BatchedMuon([frozen, trained], lr=0.1)
    trained.grad = torch.randn_like(trained)
    optimizer.step()
    assert torch.equal(frozen, before) and "momentum_buffer" not in optimizer.state[frozen]
