"""The one training loop of the lab, over tensors already in memory (no DataLoader).

Every model here (the teacher, a student and its twins, the paper's MLPs, a copy) is trained by
`fit`: several models may share one pass over the same batches, each with its own loss and
optimiser. Input transforms (the paper's jitter) and losses (soft targets, a copier's answers)
plug in. Progress goes out through callbacks, which may raise to cancel.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from models.config import epochs_for_size  # noqa: F401  (experiments read it from here)
from models.errors import ConfigError
from models.core.data import Dataset
from models.core.device import best_device
from models.core.stopping import between_steps
from models.results import Progress

ProgressFn = Callable[[Progress], None]
# (model outputs (B, 10), per-image targets (B, ...) or None, labels (B,) or None) -> scalar loss
LossFn = Callable[[torch.Tensor, torch.Tensor | None, torch.Tensor | None], torch.Tensor]
Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
SCHEDULES = ("constant", "cosine", "one-cycle")
EVAL_BATCH = 1000
STEP_REPORT_EVERY = 20  # steps between live loss reports: often enough for a curve, rare enough to cost nothing
BATCH_ORDER_OFFSET = 1  # batch order uses seed + 1: not the same random stream as the initial weights
ONE_CYCLE_START_DIVISOR = 25  # one-cycle starts at peak / 25 (PyTorch's default div_factor)
FUSED_ADAM_DEVICES = ("cpu", "cuda")


def no_progress(_: Progress) -> None:
    pass


def steps_per_epoch(examples: int, batch_size: int) -> int:
    return math.ceil(examples / batch_size)


@dataclass(frozen=True)
class FitSettings:
    """How `fit` trains. learning_rate is the peak for one-cycle; seed orders the batches (and feeds
    the input transform)."""

    epochs: int
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    schedule: str = "constant"
    # One fused Adam kernel instead of a loop of tensor ops: for the 1.37M-parameter teacher the
    # optimiser step was a tenth of each training step on a CPU. Off elsewhere, so students' stored
    # results stay reproducible to the last digit.
    fused_adam: bool = False

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule {self.schedule!r}; choose one of: {', '.join(SCHEDULES)}")
        if self.epochs < 1 or self.batch_size < 1 or not self.learning_rate > 0:
            raise ConfigError("epochs and batch size must be at least 1 and the learning rate above 0")


@dataclass(frozen=True, eq=False)
class TrainingSet:
    """What `fit` draws batches from: images (N, 1, 28, 28), optional labels (N,), optional per-image
    targets (N, ...) such as teacher logits or a copier's answers (or a dict of several, each
    batched alike), and an optional input transform."""

    images: torch.Tensor
    labels: torch.Tensor | None = None
    targets: torch.Tensor | dict | None = None
    transform: Transform | None = None

    def __len__(self) -> int:
        return len(self.images)


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


def _to(tensor, device: torch.device):
    if isinstance(tensor, dict):
        return {key: value.to(device) for key, value in tensor.items()}
    return None if tensor is None else tensor.to(device)


def _take(tensor, index: torch.Tensor):
    if isinstance(tensor, dict):
        return {key: value[index] for key, value in tensor.items()}
    return None if tensor is None else tensor[index]


def fit(models: dict[str, nn.Module], losses: dict[str, LossFn], batches_source: TrainingSet,
        settings: FitSettings, on_epoch: Callable[[int], None],
        on_step: Callable[[float, dict[str, float]], None] | None = None) -> None:
    """Train every model in `models` on exactly the same batches, each with its own loss and Adam.

    on_epoch(epoch) runs after each epoch (evaluate there); on_step(fractional epoch, {name: loss})
    every STEP_REPORT_EVERY steps. Models are left on the training device, in train mode.
    """
    device = best_device()
    images, labels = batches_source.images.to(device), _to(batches_source.labels, device)
    targets = _to(batches_source.targets, device)
    per_epoch = steps_per_epoch(len(images), settings.batch_size)
    optimisers, schedules = {}, {}
    for name, model in models.items():
        model.to(device)
        optimisers[name], schedules[name] = _optimiser_and_schedule(model, settings, settings.epochs * per_epoch)
    generator = torch.Generator().manual_seed(settings.seed)
    for epoch in range(1, settings.epochs + 1):
        for model in models.values():
            model.train()
        order = torch.randperm(len(images), generator=generator)
        for step, batch in enumerate(order.split(settings.batch_size), 1):
            batch = batch.to(device)
            x = images[batch]
            if batches_source.transform is not None:
                x = batches_source.transform(x, generator)
            y, t = _take(labels, batch), _take(targets, batch)
            step_losses = {}
            for name, model in models.items():
                loss = losses[name](model(x), t, y)
                optimisers[name].zero_grad(set_to_none=True)
                loss.backward()
                optimisers[name].step()
                if schedules[name] is not None:
                    schedules[name].step()
                step_losses[name] = loss
            between_steps((epoch - 1 + step / per_epoch, settings.epochs))
            if on_step is not None and step % STEP_REPORT_EVERY == 0:
                on_step(round(epoch - 1 + step / per_epoch, 3), {n: v.item() for n, v in step_losses.items()})
        on_epoch(epoch)


@torch.inference_mode()
def predict_logits(model: nn.Module, images: torch.Tensor, device: torch.device | None = None) -> torch.Tensor:
    """Logits (N, 10) on the CPU, computed in eval mode in chunks."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = torch.cat([model(images[i:i + EVAL_BATCH].to(device)).float().cpu()
                     for i in range(0, len(images), EVAL_BATCH)])
    model.train(was_training)
    return out


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction in [0, 1] of rows whose arg-max equals the label."""
    return (logits.argmax(1) == labels).float().mean().item()


def evaluate(model: nn.Module, dataset: Dataset) -> float:
    return accuracy(predict_logits(model, dataset.test_x), dataset.test_y)


def hard_label_loss(outputs: torch.Tensor, _targets, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(outputs, labels)
