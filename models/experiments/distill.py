"""Distil a student from cached teacher logits, with a scratch twin trained beside it.

The twin has the same architecture, the same initial weights, the same batches in the same order
and the same number of epochs; the only difference is that it sees hard labels only. So the gap
between the two is the teacher's doing, not luck of initialisation or data order.
"""
from __future__ import annotations

import copy
import time

import torch
from torch import nn

from models.base.configs import DistillConfig, check_train_size
from models.core.data import Dataset
from models.experiments.controls import (
    entropy,
    matching_smoothing,
    shuffled_soft_targets,
    smoothed_labels,
    soft_distribution_loss,
)
from models.core.forensics import compare_to_control, mcnemar_p, teacher_mistakes_shared
from models.core.features import HintedStudent, teacher_features
from models.core.loss import distillation_loss, feature_distillation_loss, soft_targets
from models.experiments.missing_digit import missing_digit_report, validation_indices
from models.core.checkpoints import TWIN_PREFIX
from models.core.nets import build_student, count_params
from models.base.results import DistillResult, Outcome, Progress
from models.core.checkpoints import TeacherLogits, load_teacher, teacher_digest, teacher_logits

CONTROL_SEED_OFFSET = 2  # the shuffle's random stream: not the weights' (seed) nor the batches' (seed + 1)
from models.core.training import (
    BATCH_ORDER_OFFSET,
    FitSettings,
    LossFn,
    OnModel,
    ProgressFn,
    TrainingSet,
    accuracy,
    fit,
    hard_label_loss,
    no_progress,
    predict_logits,
)

def soft_target_loss(temperature: float, alpha: float) -> LossFn:
    """Hinton's loss on (student logits, targets with the teacher's logits under "teacher", labels)."""
    return lambda student, targets, labels: distillation_loss(student, targets["teacher"], labels, temperature, alpha)


def feature_target_loss(config: DistillConfig) -> OnModel:
    """Hinton's loss plus β · the feature term, on a HintedStudent (reads targets["features"])."""
    def step(model: HintedStudent, batch) -> torch.Tensor:
        images, targets, labels = batch
        projected, logits = model.projected_and_logits(images)
        return feature_distillation_loss(logits, projected, targets["teacher"], targets["features"], labels,
                                         config.temperature, config.alpha, config.beta, config.feature)
    return OnModel(step)


def feature_targets(config: DistillConfig, images: torch.Tensor) -> torch.Tensor:
    """The teacher's activations at the chosen layer for the transfer images. For the hint (MSE) they
    are scaled to unit root-mean-square, so that β weighs the same whichever layer is chosen."""
    features = teacher_features(load_teacher(config.teacher), images, config.feature_layer,
                                attention=config.feature == "attention")
    if config.feature == "hint":
        features = features / features.pow(2).mean().sqrt().clamp_min(1e-12)
    return features


def transfer_indices(seed: int, train_size: int, labels: torch.Tensor, omit_class: int | None = None) -> torch.Tensor:
    """The training images a run may see: a seeded random subset (train_size 0 = all).

    An omit-class run also leaves out every image of that digit and the validation split that
    later picks its bias shift, so neither can leak into training.
    """
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=generator)
    if omit_class is not None:
        keep = labels[order] != omit_class
        keep[torch.isin(order, validation_indices(len(labels)))] = False
        order = order[keep]
    check_train_size(train_size, len(order))
    return order[:train_size] if train_size else order


def student_and_twin(name: str, seed: int, copies: int = 2) -> list[nn.Module]:
    """`copies` of one freshly initialised student: identical weights, separate parameters."""
    torch.manual_seed(seed)
    first = build_student(name)
    return [first] + [copy.deepcopy(first) for _ in range(copies - 1)]


def watched_split(dataset: Dataset, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The images a run's learning curve is drawn on: the lab's fixed validation split minus the run's
    own transfer images. Never the test set, which is read once, at the end (nothing is chosen on it)."""
    validation = validation_indices(dataset.train_size)
    watched = validation[~torch.isin(validation, index)]
    return dataset.train_x[watched], dataset.train_y[watched]


def fit_on_teacher(models: dict[str, nn.Module], losses: dict[str, LossFn], dataset: Dataset,
                   logits: TeacherLogits, index: torch.Tensor, settings: FitSettings,
                   on_point=lambda point: None, extra_targets: dict | None = None,
                   curves_wanted: bool = True) -> tuple[list[dict], dict]:
    """`fit` on the transfer set `index`, with the teacher's logits as targets["teacher"] (plus any
    extra per-image targets). Returns the learning curves, one point per epoch on the watched
    validation images ({"epoch": e, name: accuracy}; just the epoch when a run trains on all of them,
    or when no curve is wanted: a sweep keeps none, and grading every model each epoch was an eighth
    of its time), and each model's test accuracy, measured once after training."""
    curves: list[dict] = []
    watch_x, watch_y = watched_split(dataset, index)

    def on_epoch(epoch: int) -> None:
        point = {"epoch": epoch}
        if len(watch_y) and curves_wanted:
            point |= {name: accuracy(predict_logits(m, watch_x), watch_y) for name, m in models.items()}
        curves.append(point)
        on_point(curves)

    source = TrainingSet(dataset.train_x[index], dataset.train_y[index],
                         {"teacher": logits.train[index], **(extra_targets or {})})
    fit(models, losses, source, settings, on_epoch)
    return curves, {name: accuracy(predict_logits(m, dataset.test_x), dataset.test_y) for name, m in models.items()}


def control_targets(teacher_logits: torch.Tensor, labels: torch.Tensor, temperature: float, seed: int
                    ) -> tuple[dict[str, torch.Tensor], float]:
    """The two controls' per-image target distributions at T, and the smoothing ε that matches the
    teacher's mean soft-target entropy on this transfer set."""
    epsilon = matching_smoothing(float(entropy(soft_targets(teacher_logits, temperature)).mean()))
    generator = torch.Generator().manual_seed(seed + CONTROL_SEED_OFFSET)
    return ({"smoothed": smoothed_labels(labels, epsilon),
             "shuffled": shuffled_soft_targets(teacher_logits, temperature, generator)}, epsilon)


def distill(config: DistillConfig, dataset: Dataset, logits: TeacherLogits | None = None,
            on_progress: ProgressFn = no_progress) -> tuple[DistillResult, dict]:
    """Train the distilled student and its scratch twin in one loop over the same batches.

    Returns the result and the weights (CPU tensors) of the distilled student, with its scratch
    twin's under the "twin." prefix (models/core/checkpoints.py: load_student)."""
    started = time.perf_counter()
    index = transfer_indices(config.seed, config.train_size, dataset.train_y, config.omit_class)
    logits = logits or teacher_logits(config.teacher, dataset)
    models = dict(zip(["distilled", "scratch", "smoothed", "shuffled"],
                      student_and_twin(config.student, config.seed, copies=4 if config.controls else 2)))
    losses = {"distilled": soft_target_loss(config.temperature, config.alpha), "scratch": hard_label_loss}
    extra, epsilon = {}, None
    if config.controls:
        extra, epsilon = control_targets(logits.train[index], dataset.train_y[index], config.temperature, config.seed)
        losses |= {name: soft_distribution_loss(config.temperature, config.alpha, name) for name in extra}
    if config.feature != "none":  # the student trains with its regressor; the twin is untouched
        extra["features"] = feature_targets(config, dataset.train_x[index])
        models["distilled"] = HintedStudent(models["distilled"], extra["features"].shape[1],
                                            attention=config.feature == "attention")
        losses["distilled"] = feature_target_loss(config)
    settings = FitSettings(config.epochs, config.batch_size, config.learning_rate, config.seed + BATCH_ORDER_OFFSET)
    curves, last = fit_on_teacher(
        models, losses, dataset, logits, index, settings,
        lambda points: on_progress(Progress("distill", points[-1]["epoch"], config.epochs,
                                            curves=list(points), epoch_end=True)), extra)
    student, twin = models["distilled"], models["scratch"]
    student = student.student if isinstance(student, HintedStudent) else student  # the regressor stays behind
    report = missing_digit_report(student, twin, dataset, config.omit_class) if config.omit_class is not None else None
    teacher_top = logits.test.argmax(1)
    test_logits = {name: predict_logits(models[name], dataset.test_x) for name in ("distilled", "scratch")}
    shared = {name: teacher_mistakes_shared(test_logits[name].argmax(1), teacher_top, dataset.test_y)
              for name in test_logits}
    paired = compare_to_control(test_logits["distilled"], test_logits["scratch"], logits.test, dataset.test_y,
                                seed=config.seed)
    student_right = test_logits["distilled"].argmax(1) == dataset.test_y
    twin_right = test_logits["scratch"].argmax(1) == dataset.test_y
    result = DistillResult(
        student=config.student, student_params=count_params(student),
        teacher_params=count_params(load_teacher(config.teacher)),
        teacher_accuracy=accuracy(logits.test, dataset.test_y),
        distilled_accuracy=last["distilled"], scratch_accuracy=last["scratch"],
        gain=last["distilled"] - last["scratch"], seconds=round(time.perf_counter() - started, 2),
        dataset=dataset.summary(), curves=curves, missing_digit=report,
        teacher_digest=teacher_digest(config.teacher), smoothed_accuracy=last.get("smoothed"),
        shuffled_accuracy=last.get("shuffled"), smoothing=epsilon,
        teacher_mistakes_shared=shared["distilled"], scratch_mistakes_shared=shared["scratch"],
        teacher_second_choice_shared=paired.suspect_second_choice_shared,
        scratch_second_choice_shared=paired.control_second_choice_shared,
        mistakes_mcnemar_p=paired.mistakes_mcnemar_p, second_choice_mcnemar_p=paired.second_choice_mcnemar_p,
        discordant=[int((student_right & ~twin_right).sum()), int((twin_right & ~student_right).sum())],
        gain_mcnemar_p=mcnemar_p(student_right, twin_right))
    weights = {k: v.cpu() for k, v in student.state_dict().items()}
    weights |= {TWIN_PREFIX + k: v.cpu() for k, v in twin.state_dict().items()}
    return result, weights


def run(config: DistillConfig, dataset: Dataset, on_progress: ProgressFn = no_progress) -> Outcome:
    """The student beside its twin (and controls); weights: the student's, the twin's under "twin."."""
    return Outcome(*distill(config, dataset, on_progress=on_progress))
