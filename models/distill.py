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

import torch
import torch.nn.functional as F

from models.config import DistillConfig
from models.data import Dataset
from models.device import best_device
from models.loss import distillation_loss
from models.nets import build_student, count_params
from models.teacher import TeacherLogits, load_teacher, teacher_logits
from models.training import Progress, _ignore, accuracy, batches, predict_logits


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
    student_state: dict | None = field(default=None, repr=False)

    def summary(self) -> dict:
        """Everything but the weights: what the CLI prints and the store keeps as JSON."""
        out = asdict(self)
        out.pop("student_state")
        return out


def transfer_indices(config: DistillConfig, labels: torch.Tensor) -> torch.Tensor:
    """The training images this run may see: a seeded random subset, minus an omitted class."""
    generator = torch.Generator().manual_seed(config.seed)
    order = torch.randperm(len(labels), generator=generator)
    if config.omit_class is not None:
        order = order[labels[order] != config.omit_class]
    return order[: config.train_size] if config.train_size else order


def student_and_twin(name: str, seed: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    """Two copies of one freshly initialised student: identical weights, separate parameters."""
    torch.manual_seed(seed)
    student = build_student(name)
    return student, copy.deepcopy(student)


def distill(config: DistillConfig, dataset: Dataset, logits: TeacherLogits | None = None,
            on_progress: Progress = _ignore) -> DistillResult:
    """Train the distilled student and its scratch twin in one loop over the same batches."""
    started = time.perf_counter()
    config.check_train_size(dataset.train_size)
    logits = logits or teacher_logits(config.teacher, dataset)
    device = best_device()
    index = transfer_indices(config, dataset.train_y)
    images = dataset.train_x[index].to(device)
    labels = dataset.train_y[index].to(device)
    soft = logits.train[index].to(device)

    student, twin = student_and_twin(config.student, config.seed)
    student, twin = student.to(device), twin.to(device)
    optimizers = [torch.optim.Adam(m.parameters(), lr=config.learning_rate) for m in (student, twin)]
    generator = torch.Generator().manual_seed(config.seed + 1)
    curves = []
    for epoch in range(1, config.epochs + 1):
        student.train(), twin.train()
        for batch in batches(len(index), config.batch_size, generator):
            batch = batch.to(device)
            x, y = images[batch], labels[batch]
            losses = (distillation_loss(student(x), soft[batch], y, config.temperature, config.alpha),
                      F.cross_entropy(twin(x), y))
            for optimizer, loss in zip(optimizers, losses):
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        point = {"epoch": epoch,
                 "distilled": accuracy(predict_logits(student, dataset.test_x), dataset.test_y),
                 "scratch": accuracy(predict_logits(twin, dataset.test_x), dataset.test_y)}
        curves.append(point)
        on_progress({**point, "curves": list(curves)})

    teacher = load_teacher(config.teacher)
    return DistillResult(
        config=asdict(config),
        student=config.student,
        student_params=count_params(student),
        teacher_params=count_params(teacher),
        teacher_accuracy=accuracy(logits.test, dataset.test_y),
        distilled_accuracy=curves[-1]["distilled"],
        scratch_accuracy=curves[-1]["scratch"],
        gain=curves[-1]["distilled"] - curves[-1]["scratch"],
        seconds=round(time.perf_counter() - started, 2),
        dataset=dataset.summary(),
        curves=curves,
        student_state={k: v.cpu() for k, v in student.state_dict().items()},
    )


@dataclass(frozen=True)
class SeedSummary:
    """Mean and spread over K seeds of one distillation setting."""

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


def summarise_seeds(results: list[DistillResult]) -> SeedSummary:
    def spread(values):
        return statistics.stdev(values) if len(values) > 1 else 0.0

    distilled = [r.distilled_accuracy for r in results]
    scratch = [r.scratch_accuracy for r in results]
    gains = [r.gain for r in results]
    return SeedSummary(
        seeds=[r.config["seed"] for r in results],
        distilled_mean=statistics.fmean(distilled), distilled_std=spread(distilled),
        scratch_mean=statistics.fmean(scratch), scratch_std=spread(scratch),
        gain_mean=statistics.fmean(gains), gain_std=spread(gains),
        verdict=verdict(statistics.fmean(gains), spread(gains), len(results)),
    )
