"""Copying a model through its answers (model extraction), at toy scale.

The teacher hides behind a PredictionAPI that counts every query and answers in one of four
modes. The copier is a student that sees only its own questions and the API's answers: never the
teacher's weights and never a dataset label. The lab, not the copier, grades the copy on the
MNIST test set: accuracy against the true labels, and fidelity (agreement with the teacher).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.config import ConfigError, check_seed, check_student, check_temperature
from models.data import Dataset
from models.device import best_device
from models.nets import build_student, count_params
from models.queries import SOURCES, query_set
from models.sweep import epochs_for_size
from models.teacher import load_teacher
from models.training import Progress, accuracy, batches, no_progress, predict_logits

ANSWER_MODES = ("probs", "top3", "label", "rounded")
ANSWER_LABELS = {"probs": "full probabilities", "top3": "top-3 probabilities", "label": "top label only",
                 "rounded": "probabilities rounded to 0.1"}
DEFENCES = ("none", "noise")
QUERY_BUDGETS = (100, 300, 1000, 3000, 10000, 30000, 60000)
# Standard deviation of the defence's noise on log-probabilities. Measured with mlp-100 copies from
# 1,000 MNIST queries: 1 barely slows the copier (fidelity 91.8 -> 91.5 %), 3 costs it about what
# label-only answers do (89.4 %), 6 more (85.4 %) at a visible calibration cost to honest users.
DEFAULT_NOISE = 3.0
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
        self._noise = torch.Generator().manual_seed(seed + 7919)
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


@dataclass(frozen=True)
class ExtractConfig:
    queries: int = 1000
    answers: str = "probs"
    source: str = "mnist"
    defence: str = "none"
    student: str = "mlp-100"
    seed: int = 0
    teacher: str = "pretrained"
    defence_strength: float = DEFAULT_NOISE  # noise scale when defence == "noise"
    temperature: float = 4.0  # the copier re-softens probability answers (no effect on labels)
    batch_size: int = 128
    learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        check_temperature(self.temperature)
        if not (math.isfinite(self.defence_strength) and 0 < self.defence_strength <= 20):
            raise ConfigError(f"defence strength must lie in (0, 20], got {self.defence_strength}")
        if not 1 <= self.queries <= 1_000_000:
            raise ConfigError(f"queries must be between 1 and 1000000, got {self.queries}")
        if self.answers not in ANSWER_MODES:
            raise ConfigError(f"unknown answer mode {self.answers!r}; choose one of: {', '.join(ANSWER_MODES)}")
        if self.source not in SOURCES:
            raise ConfigError(f"unknown query source {self.source!r}; choose one of: {', '.join(SOURCES)}")
        if self.defence not in DEFENCES:
            raise ConfigError(f"unknown defence {self.defence!r}; choose one of: {', '.join(DEFENCES)}")
        check_student(self.student)
        check_seed(self.seed)

    @property
    def epochs(self) -> int:
        return epochs_for_size(self.queries)


def train_copy(queries: torch.Tensor, targets: torch.Tensor, config: ExtractConfig,
               on_progress: Progress = no_progress) -> nn.Module:
    """Fit a fresh student to (query, answer) pairs with soft cross-entropy. Nothing else goes in."""
    device = best_device()
    torch.manual_seed(config.seed)
    copy = build_student(config.student).to(device)
    optimizer = torch.optim.Adam(copy.parameters(), lr=config.learning_rate)
    images, targets = queries.to(device), targets.to(device)
    generator = torch.Generator().manual_seed(config.seed + 1)
    for epoch in range(1, config.epochs + 1):
        copy.train()
        for batch in batches(len(images), config.batch_size, generator):
            batch = batch.to(device)
            log_probs = F.log_softmax(copy(images[batch]) / config.temperature, 1)
            loss = -(targets[batch] * log_probs).sum(1).mean() * config.temperature**2
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        on_progress({"epoch": epoch, "of": config.epochs})
    return copy.eval()


def run_extraction(config: ExtractConfig, dataset: Dataset, on_progress: Progress = no_progress) -> dict:
    started = time.perf_counter()
    teacher = load_teacher(config.teacher)
    queries = query_set(config.source, config.queries, config.seed, dataset)
    api = PredictionAPI(teacher, config.answers, config.defence, config.seed, config.defence_strength)
    targets = answers_to_targets(api.query(queries.images), config.temperature)
    copy = train_copy(queries.images, targets, config, on_progress)
    # Grading, done by the lab, not the copier: the copy against true labels and against the teacher.
    copy_predictions = predict_logits(copy, dataset.test_x).argmax(1)
    teacher_predictions = predict_logits(teacher, dataset.test_x).argmax(1)
    return {
        "queries": api.queries_served,
        "answers": config.answers,
        "source": config.source,
        "source_name": queries.name,
        "source_notice": queries.notice,
        "defence": config.defence,
        "defence_strength": config.defence_strength if config.defence == "noise" else None,
        "copy_accuracy": (copy_predictions == dataset.test_y).float().mean().item(),
        "fidelity": (copy_predictions == teacher_predictions).float().mean().item(),
        "teacher_accuracy": (teacher_predictions == dataset.test_y).float().mean().item(),
        "student": config.student,
        "student_params": count_params(copy),
        "epochs": config.epochs,
        "seconds": round(time.perf_counter() - started, 2),
        "dataset": dataset.summary(),
        "config": asdict(config),
    }


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

