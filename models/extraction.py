"""Copying a model through its answers (model extraction), at toy scale.

The teacher hides behind a PredictionAPI that counts every query and answers in one of four
modes. The copier is a student that sees only its own questions and the API's answers: never the
teacher's weights and never a dataset label. The lab, not the copier, grades the copy on the
MNIST test set: accuracy against the true labels, and fidelity (agreement with the teacher).
"""
from __future__ import annotations

import time
from dataclasses import asdict

import torch
import torch.nn.functional as F
from torch import nn

from models.config import ANSWER_LABELS, ANSWER_MODES, DEFAULT_NOISE, DEFENCES, ConfigError, ExtractConfig
from models.data import Dataset
from models.nets import build_student, count_params
from models.queries import query_set
from models.results import ExtractionResult, Progress
from models.teacher import load_teacher, teacher_digest
from models.training import (
    BATCH_ORDER_OFFSET,
    FitSettings,
    ProgressFn,
    TrainingSet,
    accuracy,
    epochs_for_size,
    fit,
    no_progress,
    predict_logits,
)

QUERY_BUDGETS = (100, 300, 1000, 3000, 10000, 30000, 60000)
NOISE_SEED_OFFSET = 7919  # the defence's noise stream must differ from the copier's query stream (same seed)
# What a provider can choose to return: each answer mode as it is, plus probabilities with noise.
ANSWER_VARIANTS = tuple((mode, "none") for mode in ANSWER_MODES) + (("probs", "noise"),)


def variant_label(answers: str, defence: str) -> str:
    return ANSWER_LABELS[answers] + (" + noise defence" if defence == "noise" else "")


class PredictionAPI:
    """The teacher as a service: images in, answers out, every query counted.

    answers: probs (10 probabilities), top3 (the 3 largest, the rest 0), label (one int per image),
    rounded (probabilities rounded to one decimal). defence="noise" perturbs the returned
    probabilities but never changes the top label, so honest users get the same answer.
    """

    def __init__(self, teacher: nn.Module, answers: str = "probs", defence: str = "none", seed: int = 0,
                 noise_scale: float = DEFAULT_NOISE):
        if answers not in ANSWER_MODES:
            raise ConfigError(f"unknown answer mode {answers!r}; choose one of: {', '.join(ANSWER_MODES)}")
        if defence not in DEFENCES:
            raise ConfigError(f"unknown defence {defence!r}; choose one of: {', '.join(DEFENCES)}")
        self._teacher = teacher
        self.answers, self.defence = answers, defence
        self._noise = torch.Generator().manual_seed(seed + NOISE_SEED_OFFSET)
        self._noise_scale = noise_scale
        self.queries_served = 0

    def _probabilities(self, images: torch.Tensor) -> torch.Tensor:
        probs = predict_logits(self._teacher, images).softmax(1)
        if self.defence == "noise":
            probs = perturb_keeping_top(probs, self._noise, self._noise_scale)
        return probs

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) -> (N, 10) float answers, or (N,) int64 labels in label mode."""
        self.queries_served += len(images)
        probs = self._probabilities(images)
        if self.answers == "label":
            return probs.argmax(1)
        if self.answers == "top3":
            top = probs.topk(3, dim=1)
            return torch.zeros_like(probs).scatter(1, top.indices, top.values)
        if self.answers == "rounded":
            return torch.round(probs * 10) / 10
        return probs


def perturb_keeping_top(probs: torch.Tensor, generator: torch.Generator, scale: float) -> torch.Tensor:
    """Noise on the log-probabilities, renormalised, then the original top class swapped back on top."""
    noisy = (probs.clamp_min(1e-12).log() + scale * torch.randn(probs.shape, generator=generator)).softmax(1)
    rows = torch.arange(len(probs))
    top, new_top = probs.argmax(1), noisy.argmax(1)
    top_value, new_value = noisy[rows, top].clone(), noisy[rows, new_top].clone()
    noisy[rows, new_top] = top_value
    noisy[rows, top] = new_value
    return noisy


def answers_to_targets(answers: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """What the copier trains on: a distribution per query (labels become one-hot).

    Probabilities are the teacher's logits up to a constant (log p = z - logsumexp z), so a copier
    can re-soften them at any temperature: softmax(log p / T) = softmax(z / T), exactly the soft
    targets of distillation. Answers that zero out classes (top-3, rounded) lose that information.
    """
    if answers.dtype == torch.int64:
        return F.one_hot(answers, 10).float()
    probs = answers / answers.sum(1, keepdim=True).clamp_min(1e-12)
    return (probs.clamp_min(1e-30).log() / temperature).softmax(1)


def soft_cross_entropy(temperature: float):
    """The copier's loss on (copy logits, target distributions, unused labels), scaled by T² like
    distillation's soft term."""
    def loss(outputs: torch.Tensor, targets: torch.Tensor, _labels) -> torch.Tensor:
        return -(targets * F.log_softmax(outputs / temperature, 1)).sum(1).mean() * temperature**2
    return loss


def train_copy(queries: torch.Tensor, targets: torch.Tensor, config: ExtractConfig,
               on_progress: ProgressFn = no_progress) -> nn.Module:
    """Fit a fresh student to (query, answer) pairs with soft cross-entropy. Nothing else goes in."""
    torch.manual_seed(config.seed)
    copy = build_student(config.student)
    epochs = epochs_for_size(config.queries)
    settings = FitSettings(epochs, config.batch_size, config.learning_rate, config.seed + BATCH_ORDER_OFFSET)
    fit({"copy": copy}, {"copy": soft_cross_entropy(config.temperature)}, TrainingSet(queries, targets=targets),
        settings, lambda epoch: on_progress(Progress("copy", epoch, epochs, epoch_end=True)))
    return copy.eval()


def run_extraction(config: ExtractConfig, dataset: Dataset, on_progress: ProgressFn = no_progress) -> ExtractionResult:
    started = time.perf_counter()
    teacher = load_teacher(config.teacher)
    queries = query_set(config.source, config.queries, config.seed, dataset)
    api = PredictionAPI(teacher, config.answers, config.defence, config.seed, config.defence_strength)
    targets = answers_to_targets(api.query(queries.images), config.temperature)
    copy = train_copy(queries.images, targets, config, on_progress)
    # Grading, done by the lab, not the copier: the copy against true labels and against the teacher.
    copy_predictions = predict_logits(copy, dataset.test_x).argmax(1)
    teacher_predictions = predict_logits(teacher, dataset.test_x).argmax(1)
    return ExtractionResult(
        queries=api.queries_served, answers=config.answers, source=config.source, source_name=queries.name,
        source_notice=queries.notice, defence=config.defence,
        defence_strength=config.defence_strength if config.defence == "noise" else None,
        copy_accuracy=(copy_predictions == dataset.test_y).float().mean().item(),
        fidelity=(copy_predictions == teacher_predictions).float().mean().item(),
        teacher_accuracy=(teacher_predictions == dataset.test_y).float().mean().item(),
        student=config.student, student_params=count_params(copy), epochs=epochs_for_size(config.queries),
        seconds=round(time.perf_counter() - started, 2), dataset=dataset.summary(), config=asdict(config),
        teacher_digest=teacher_digest(config.teacher))


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int = 15) -> float:
    """How far stated confidence is from actual accuracy, averaged over confidence bins (0 = honest)."""
    confidence, predicted = probs.max(1)
    correct = (predicted == labels).float()
    edges = torch.linspace(0, 1, bins + 1)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.float().mean().item() * abs(confidence[inside].mean().item() - correct[inside].mean().item())
    return total


def answer_costs(teacher: nn.Module, dataset: Dataset, strength: float = DEFAULT_NOISE) -> list[dict]:
    """What each answer mode or defence costs an honest user, measured on the MNIST test set.

    top_label_agreement: how often they still get the teacher's answer (1.0 = no loss).
    calibration_error: ECE of the probabilities they receive (labels count as 100 % confident).
    distortion: total-variation distance between what they receive and the teacher's probabilities.
    """
    true_probs = predict_logits(teacher, dataset.test_x).softmax(1)
    rows = []
    for answers, defence in ANSWER_VARIANTS:
        api = PredictionAPI(teacher, answers, defence, seed=0, noise_scale=strength)
        received = answers_to_targets(api.query(dataset.test_x))
        rows.append({
            "answers": answers, "defence": defence,
            "label": variant_label(answers, defence),
            "top_label_agreement": accuracy(received, true_probs.argmax(1)),
            "calibration_error": expected_calibration_error(received, dataset.test_y),
            "distortion": 0.5 * (received - true_probs).abs().sum(1).mean().item(),  # total variation
        })
    return rows

