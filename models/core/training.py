"""Training and grading the digit models, over tensors already in memory (no DataLoader).

Every digit model (the teacher, a student and its twins, the paper's MLPs, a copy) trains through
`fit`, which hands the lab's one trainer (models/core/trainer.py) a batch source of images:
several models may share one pass over the same batches, each with its own loss and optimiser.
Input transforms (the paper's jitter) and losses (soft targets, a copier's answers) plug in.
Progress goes out through callbacks, which may raise to cancel.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from models.base.configs import epochs_for_size  # noqa: F401  (experiments read it from here)
from models.core.data import Dataset
from models.core.device import best_device
from models.core.trainer import FitSettings, StepLoss, train  # noqa: F401  (FitSettings: experiments read it from here)
from models.base.results import Progress

ProgressFn = Callable[[Progress], None]
# (model outputs (B, 10), per-image targets (B, ...) or None, labels (B,) or None) -> scalar loss
LossFn = Callable[[torch.Tensor, torch.Tensor | None, torch.Tensor | None], torch.Tensor]
Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
EVAL_BATCH = 1000
BATCH_ORDER_OFFSET = 1  # batch order uses seed + 1: not the same random stream as the initial weights


def no_progress(_: Progress) -> None:
    pass


def steps_per_epoch(examples: int, batch_size: int) -> int:
    return math.ceil(examples / batch_size)


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


def _to(tensor, device: torch.device):
    if isinstance(tensor, dict):
        return {key: value.to(device) for key, value in tensor.items()}
    return None if tensor is None else tensor.to(device)


def _take(tensor, index: torch.Tensor):
    if isinstance(tensor, dict):
        return {key: value[index] for key, value in tensor.items()}
    return None if tensor is None else tensor[index]


class ImageBatches:
    """A TrainingSet as the trainer's batch source: a fresh random order each epoch, on `device`,
    each batch (images, targets, labels) with the input transform applied."""

    def __init__(self, source: TrainingSet, batch_size: int, device: torch.device):
        self.images, self.labels = source.images.to(device), _to(source.labels, device)
        self.targets, self.transform = _to(source.targets, device), source.transform
        self.batch_size, self.device = batch_size, device

    def steps_per_epoch(self) -> int:
        return steps_per_epoch(len(self.images), self.batch_size)

    def epoch(self, generator: torch.Generator):
        for batch in torch.randperm(len(self.images), generator=generator).split(self.batch_size):
            batch = batch.to(self.device)
            x = self.images[batch]
            if self.transform is not None:
                x = self.transform(x, generator)
            yield x, _take(self.targets, batch), _take(self.labels, batch)


def on_images(loss: LossFn) -> StepLoss:
    """A digit loss as the trainer's step loss: the model's outputs on the batch's images, then the loss."""
    return lambda model, batch: loss(model(batch[0]), batch[1], batch[2])


@dataclass(frozen=True)
class OnModel:
    """A digit loss that needs the model itself, not only its outputs (a feature term reads a hidden
    layer): step(model, (images, targets, labels)) -> scalar loss."""

    step: StepLoss


def fit(models: dict[str, nn.Module], losses: dict[str, LossFn | OnModel], batches_source: TrainingSet,
        settings: FitSettings, on_epoch: Callable[[int], None],
        on_step: Callable[[float, dict[str, float]], None] | None = None) -> None:
    """Train every digit model in `models` on exactly the same batches, each with its own loss and
    Adam, through the lab's one trainer (models/core/trainer.py).

    on_epoch(epoch) runs after each epoch (evaluate there); on_step(fractional epoch, {name: loss})
    every trainer.STEP_REPORT_EVERY steps. Models are left on the training device, in train mode.
    """
    device = best_device()
    for model in models.values():
        model.to(device)
    train(models, {name: loss.step if isinstance(loss, OnModel) else on_images(loss) for name, loss in losses.items()},
          ImageBatches(batches_source, settings.batch_size, device), settings, on_epoch, on_step)


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
