"""Distil a student from cached teacher logits, with a scratch twin trained beside it.

The twin has the same architecture, the same initial weights, the same batches in the same order
and the same number of epochs; the only difference is that it sees hard labels only. So the gap
between the two is the teacher's doing, not luck of initialisation or data order.
"""
from __future__ import annotations

import copy
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from models.config import DistillConfig
from models.data import Dataset
from models.device import best_device
from models.loss import distillation_loss
from models.missing_digit import MissingDigitReport, missing_digit_report, validation_indices
from models.nets import build_student, count_params
from models.teacher import TeacherLogits, load_teacher, teacher_logits
from models.training import Progress, accuracy, batches, no_progress, predict_logits

# (student logits, teacher logits, labels) -> scalar loss
LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def hard_label_loss(student: torch.Tensor, _teacher: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(student, labels)


def soft_target_loss(temperature: float, alpha: float) -> LossFn:
    return lambda student, teacher, labels: distillation_loss(student, teacher, labels, temperature, alpha)


@dataclass
class DistillResult:
    """Accuracies are fractions in [0, 1] on the full test set."""

    config: dict
    student: str
    student_params: int
    teacher_params: int
    teacher_accuracy: float
    distilled_accuracy: float
    scratch_accuracy: float
    gain: float
    seconds: float
    dataset: dict
    curves: list = field(default_factory=list)
    missing_digit: dict | None = None
    student_state: dict | None = field(default=None, repr=False)

    def summary(self) -> dict:
        """Everything but the weights: what the CLI prints and the store keeps as JSON."""
        out = asdict(self)
        out.pop("student_state")
        return out


def transfer_indices(config: DistillConfig, labels: torch.Tensor) -> torch.Tensor:
    """The training images this run may see: a seeded random subset.

    An omit-class run also leaves out every image of that digit and the validation split that
    later picks its bias shift, so neither can leak into training.
    """
    generator = torch.Generator().manual_seed(config.seed)
    order = torch.randperm(len(labels), generator=generator)
    if config.omit_class is not None:
        keep = labels[order] != config.omit_class
        keep[torch.isin(order, validation_indices(len(labels)))] = False
        order = order[keep]
    config.check_train_size(len(order))
    return order[: config.train_size] if config.train_size else order


def student_and_twin(name: str, seed: int, copies: int = 2) -> list[nn.Module]:
    """`copies` of one freshly initialised student: identical weights, separate parameters."""
    torch.manual_seed(seed)
    first = build_student(name)
    return [first] + [copy.deepcopy(first) for _ in range(copies - 1)]


def fit_together(models: dict[str, nn.Module], losses: dict[str, LossFn], config: DistillConfig,
                 dataset: Dataset, logits: TeacherLogits, index: torch.Tensor,
                 on_epoch: Callable[[dict], None], cosine: bool = False) -> list[dict]:
    """Train several models on exactly the same batches, each with its own loss.

    cosine=True anneals each learning rate to zero over the run (used by the paper's setup).

    Returns one curve point per epoch: {"epoch": e, name: test accuracy, ...}.
    """
    device = best_device()
    images, labels = dataset.train_x[index].to(device), dataset.train_y[index].to(device)
    soft = logits.train[index].to(device)
    for model in models.values():
        model.to(device)
    optimizers = {name: torch.optim.Adam(m.parameters(), lr=config.learning_rate) for name, m in models.items()}
    steps = config.epochs * -(-len(index) // config.batch_size)
    schedules = [torch.optim.lr_scheduler.CosineAnnealingLR(o, steps) for o in optimizers.values()] if cosine else []
    generator = torch.Generator().manual_seed(config.seed + 1)
    curves = []
    for epoch in range(1, config.epochs + 1):
        for model in models.values():
            model.train()
        for batch in batches(len(index), config.batch_size, generator):
            batch = batch.to(device)
            x, y, t = images[batch], labels[batch], soft[batch]
            for name, model in models.items():
                loss = losses[name](model(x), t, y)
                optimizers[name].zero_grad(set_to_none=True)
                loss.backward()
                optimizers[name].step()
            for schedule in schedules:
                schedule.step()
        point = {"epoch": epoch, **{name: accuracy(predict_logits(m, dataset.test_x), dataset.test_y)
                                    for name, m in models.items()}}
        curves.append(point)
        on_epoch(point)
    return curves


def distill(config: DistillConfig, dataset: Dataset, logits: TeacherLogits | None = None,
            on_progress: Progress = no_progress) -> DistillResult:
    """Train the distilled student and its scratch twin in one loop over the same batches."""
    started = time.perf_counter()
    index = transfer_indices(config, dataset.train_y)
    logits = logits or teacher_logits(config.teacher, dataset)
    student, twin = student_and_twin(config.student, config.seed)
    curves: list[dict] = []

    def on_epoch(point: dict) -> None:
        curves.append(point)
        on_progress({**point, "curves": list(curves), "epoch_end": True})

    fit_together({"distilled": student, "scratch": twin},
                 {"distilled": soft_target_loss(config.temperature, config.alpha), "scratch": hard_label_loss},
                 config, dataset, logits, index, on_epoch)
    report: MissingDigitReport | None = None
    if config.omit_class is not None:
        report = missing_digit_report(student, twin, dataset, config.omit_class)
    return DistillResult(
        config=asdict(config),
        student=config.student,
        student_params=count_params(student),
        teacher_params=count_params(load_teacher(config.teacher)),
        teacher_accuracy=accuracy(logits.test, dataset.test_y),
        distilled_accuracy=curves[-1]["distilled"],
        scratch_accuracy=curves[-1]["scratch"],
        gain=curves[-1]["distilled"] - curves[-1]["scratch"],
        seconds=round(time.perf_counter() - started, 2),
        dataset=dataset.summary(),
        curves=curves,
        missing_digit=asdict(report) if report else None,
        student_state={k: v.cpu() for k, v in student.state_dict().items()},
    )


@dataclass(frozen=True)
class SeedSummary:
    """Mean and spread (sample standard deviation) over K seeds of one distillation setting."""

    seeds: list
    distilled_mean: float
    distilled_std: float
    scratch_mean: float
    scratch_std: float
    gain_mean: float
    gain_std: float
    verdict: str


def verdict(gain_mean: float, gain_std: float, k: int) -> str:
    """'clear gain', 'within noise' or 'worse': is the mean gain beyond twice its spread?

    With one seed there is no spread to compare against, so the answer is 'one seed only'.
    """
    if k < 2:
        return "one seed only"
    if gain_mean > 2 * gain_std:
        return "clear gain"
    if gain_mean < -2 * gain_std:
        return "worse"
    return "within noise"


def spread(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def summarise(seeds: list, distilled: list[float], scratch: list[float]) -> SeedSummary:
    gains = [d - s for d, s in zip(distilled, scratch)]
    return SeedSummary(
        seeds=list(seeds),
        distilled_mean=statistics.fmean(distilled), distilled_std=spread(distilled),
        scratch_mean=statistics.fmean(scratch), scratch_std=spread(scratch),
        gain_mean=statistics.fmean(gains), gain_std=spread(gains),
        verdict=verdict(statistics.fmean(gains), spread(gains), len(gains)),
    )


def summarise_seeds(results: list[DistillResult]) -> SeedSummary:
    return summarise([r.config["seed"] for r in results], [r.distilled_accuracy for r in results],
                     [r.scratch_accuracy for r in results])
