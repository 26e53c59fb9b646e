"""The trainer's optimizer: AdamW alone, or Muon for the blocks' weight matrices plus AdamW.

Muon (Jordan et al. 2024, from the modern nanoGPT speed-runs) keeps a momentum of each matrix's
gradient like SGD, but steps along its orthogonalised version (a few Newton-Schulz iterations
set every singular value to about 1), so that no single direction dominates an update. It only
suits the 2-D weights inside the blocks; the embedding, the head, the biases and the norm gains
stay with AdamW. torch.optim.Muon is PyTorch's implementation (run here as BatchedMuon, the
same algorithm with fewer, batched products: training/muon.py); with adjust_lr_fn
"match_rms_adamw" its update has AdamW's size, so the two share one learning rate and schedule
(times `muon_lr_ratio`).

Each param group may carry an "lr_scale": the training loop sets its learning rate to the
schedule's value times that scale.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from learngpt.config import TrainConfig
from learngpt.model import GPT, adamw
from learngpt.training.muon import BatchedMuon


def muon_matrices(model: GPT) -> list[nn.Parameter]:
    """What Muon steps: the blocks' Linear weights (not the (K, C) weights of ffwd_conv, which
    are 2-D but no linear map)."""
    return [m.weight for block in model.blocks for m in block.modules() if isinstance(m, nn.Linear)]


def build_optimizer(model: GPT, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW over learngpt.model.decay_groups, or Muon + that AdamW if config.muon."""
    betas = (config.beta1, config.beta2)
    if not config.muon:
        return adamw(list(model.parameters()), config.weight_decay, config.learning_rate, betas)
    matrices = muon_matrices(model)
    chosen = {id(p) for p in matrices}
    rest = [p for p in model.parameters() if id(p) not in chosen]
    muon = BatchedMuon(
        [{"params": matrices, "lr_scale": config.muon_lr_ratio}],
        lr=config.learning_rate * config.muon_lr_ratio,
        weight_decay=config.weight_decay,
        momentum=config.muon_momentum,
        ns_steps=config.muon_ns_steps,
        adjust_lr_fn="match_rms_adamw",
    )
    return Optimizers(muon, adamw(rest, config.weight_decay, config.learning_rate, betas))


class Optimizers(torch.optim.Optimizer):
    """Several optimizers over disjoint parameters, stepped as one.

    param_groups lists every group of every optimizer (the loop sets their learning rates), and
    state_dict() is one ordinary optimizer state dict (parameters numbered across all of them),
    so a checkpoint stores it like any other optimizer's.
    """

    def __init__(self, *optimizers: torch.optim.Optimizer):
        self.optimizers = optimizers  # no super().__init__: the parts hold the state

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return [group for opt in self.optimizers for group in opt.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=set_to_none)

    @torch.no_grad()
    def step(self, closure=None) -> None:
        for opt in self.optimizers:
            opt.step()

    def state_dict(self) -> dict[str, Any]:
        state, groups, offset = {}, [], 0
        for opt in self.optimizers:
            sd = opt.state_dict()
            state.update({offset + i: s for i, s in sd["state"].items()})
            for group in sd["param_groups"]:
                groups.append({**group, "params": [offset + i for i in group["params"]]})
            offset += sum(len(g["params"]) for g in sd["param_groups"])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = iter(state_dict["param_groups"])
        offset = 0
        for opt in self.optimizers:
            mine = [next(groups) for _ in opt.param_groups]
            count = sum(len(g["params"]) for g in mine)
            opt.load_state_dict(
                {
                    "state": {
                        i - offset: s
                        for i, s in state_dict["state"].items()
                        if offset <= int(i) < offset + count
                    },
                    "param_groups": [
                        {**g, "params": [i - offset for i in g["params"]]} for g in mine
                    ],
                }
            )
            offset += count
