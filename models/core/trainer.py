"""The lab's one training loop. It knows nothing of what it trains (minGPT's `Trainer` is the model):
models, a source of batches, a loss per model, optimiser settings, progress and cancel plug in.

Digits (models/core/training.py: `fit`, the teacher, students, twins and copies), the chat copies
and the chat teacher all train here, so clipping, schedules, cancel checks and progress behave the
same everywhere, and `loss.backward()` is written once (a test holds the engine to that).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

import torch
from torch import nn

from models.base.errors import ConfigError
from models.core.stopping import between_steps

SCHEDULES = ("constant", "cosine", "one-cycle")
STEP_REPORT_EVERY = 20  # steps between live loss reports: often enough for a curve, rare enough to cost nothing
ONE_CYCLE_START_DIVISOR = 25  # one-cycle starts at peak / 25 (PyTorch's default div_factor)
FUSED_ADAM_DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class FitSettings:
    """How the trainer optimises. learning_rate is the peak for one-cycle; seed draws the batch order
    (and feeds a source's input transform); clip_norm caps each step's gradient norm (None: no cap)."""

    epochs: int
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    schedule: str = "constant"
    # One fused Adam kernel instead of a loop of tensor ops: for the 1.37M-parameter teacher the
    # optimiser step was a tenth of each training step on a CPU. Off elsewhere, so students' stored
    # results stay reproducible to the last digit.
    fused_adam: bool = False
    clip_norm: float | None = None

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule {self.schedule!r}; choose one of: {', '.join(SCHEDULES)}")
        if self.epochs < 1 or self.batch_size < 1 or not self.learning_rate > 0:
            raise ConfigError("epochs and batch size must be at least 1 and the learning rate above 0")
        if self.clip_norm is not None and not self.clip_norm > 0:
            raise ConfigError("a gradient clip must be above 0")


class BatchSource(Protocol):
    """What the trainer draws batches from. A batch is whatever the losses know how to read."""

    def steps_per_epoch(self) -> int: ...

    def epoch(self, generator: torch.Generator) -> Iterator[object]:
        """One epoch's batches, in an order drawn from `generator` (so models trained on the same
        seed see their batches in the same order)."""


# (model, batch) -> scalar loss: the loss runs the model itself, so any model and batch shape fit.
StepLoss = Callable[[nn.Module, object], torch.Tensor]
OnStep = Callable[[float, dict[str, float]], None]


def _optimiser_and_schedule(model: nn.Module, settings: FitSettings, total_steps: int):
    fused = settings.fused_adam and next(model.parameters()).device.type in FUSED_ADAM_DEVICES
    if settings.schedule == "one-cycle":
        optimiser = torch.optim.Adam(model.parameters(), lr=settings.learning_rate / ONE_CYCLE_START_DIVISOR,
                                     fused=fused or None)
        return optimiser, torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=settings.learning_rate,
                                                              total_steps=total_steps)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.learning_rate, fused=fused or None)
    if settings.schedule == "cosine":
        return optimiser, torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, total_steps)
    return optimiser, None


def train(models: dict[str, nn.Module], losses: dict[str, StepLoss], source: BatchSource, settings: FitSettings,
          on_epoch: Callable[[int], None] = lambda epoch: None, on_step: OnStep | None = None,
          report_every: int = STEP_REPORT_EVERY, span: tuple[float, int] | None = None) -> None:
    """Train every model on exactly the same batches, each with its own loss and Adam.

    on_epoch(epoch) runs after each epoch (evaluate there); on_step(fractional epoch, {name: loss})
    every `report_every` steps. Between steps the installed cancel check runs (models/core/stopping.py)
    and hears the position: epochs done and in all, or, with span = (epochs before this training,
    epochs in the whole run), that position in a run of several trainings. Models are left in train
    mode on whatever device they were given.
    """
    per_epoch = source.steps_per_epoch()
    optimisers, schedules = {}, {}
    for name, model in models.items():
        optimisers[name], schedules[name] = _optimiser_and_schedule(model, settings, settings.epochs * math.ceil(per_epoch))
    before, in_all = span or (0.0, settings.epochs)
    generator = torch.Generator().manual_seed(settings.seed)
    for epoch in range(1, settings.epochs + 1):
        for model in models.values():
            model.train()
        for step, batch in enumerate(source.epoch(generator), 1):
            step_losses = {}
            for name, model in models.items():
                loss = losses[name](model, batch)
                optimisers[name].zero_grad(set_to_none=True)
                loss.backward()
                if settings.clip_norm is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), settings.clip_norm)
                optimisers[name].step()
                if schedules[name] is not None:
                    schedules[name].step()
                step_losses[name] = loss
            done = epoch - 1 + step / per_epoch
            between_steps((before + done, in_all))
            if on_step is not None and step % report_every == 0:
                on_step(round(done, 3), {n: v.item() for n, v in step_losses.items()})
        on_epoch(epoch)
