"""Train a teacher CNN: the model every other lesson learns from."""
from __future__ import annotations

import time

import torch

from models.base.configs import TeacherConfig, check_train_size
from models.core.data import Dataset
from models.core.device import best_device
from models.core.nets import TeacherCNN, count_params
from models.core.training import FitSettings, ProgressFn, TrainingSet, evaluate, fit, hard_label_loss, no_progress
from models.base.results import Outcome, Progress, TeacherResult


def train_teacher(config: TeacherConfig, dataset: Dataset, on_progress: ProgressFn = no_progress
                  ) -> tuple[TeacherCNN, TeacherResult]:
    """Adam with a one-cycle learning rate: reaches 99 % on full MNIST in two epochs (every seed
    of bench.engine's three).

    Returns the model (eval mode, on the CPU) and its result (test_accuracy in [0, 1]).
    """
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    model = TeacherCNN(dropout=config.dropout)
    curves, losses = [], []

    def on_step(epoch: float, step_losses: dict[str, float]) -> None:
        losses.append([epoch, step_losses["teacher"]])
        on_progress(Progress("teacher", epoch, config.epochs, len(losses), list(curves), list(losses)))

    def on_epoch(epoch: int) -> None:
        curves.append({"epoch": epoch, "teacher": evaluate(model, dataset)})
        on_progress(Progress("teacher", epoch, config.epochs, len(losses), list(curves), list(losses), True))

    check_train_size(config.train_size, dataset.train_size)
    images, labels = (dataset.train_x[:config.train_size], dataset.train_y[:config.train_size]) if config.train_size \
        else (dataset.train_x, dataset.train_y)
    settings = FitSettings(config.epochs, config.batch_size, config.max_lr, config.seed, "one-cycle", fused_adam=True)
    fit({"teacher": model}, {"teacher": hard_label_loss}, TrainingSet(images, labels), settings, on_epoch, on_step)
    model = model.cpu().eval()
    return model, TeacherResult(
        test_accuracy=curves[-1]["teacher"], params=count_params(model), epochs=config.epochs,
        seconds=round(time.perf_counter() - started, 2), dataset=dataset.summary(), device=str(best_device()),
        curves=curves, losses=losses)


def run(config: TeacherConfig, dataset: Dataset, on_progress: ProgressFn = no_progress) -> Outcome:
    """The teacher's result and its state dict (the service writes it as a checkpoint)."""
    model, result = train_teacher(config, dataset, on_progress)
    return Outcome(result, model.state_dict())
