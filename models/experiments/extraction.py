"""Copying a model through its answers (model extraction), at toy scale.

The teacher hides behind a PredictionAPI that counts every query and answers in one of four
modes. The copier is a student that sees only its own questions and the API's answers: never the
teacher's weights and never a dataset label. The lab, not the copier, grades the copy on the
MNIST test set: accuracy against the true labels, and fidelity (agreement with the teacher).
"""
from __future__ import annotations

import hashlib
import time

import torch
import torch.nn.functional as F
from torch import nn

from models.base.configs import (
    ANSWER_MODES,
    DEFAULT_NOISE,
    DEFENCES,
    ConfigError,
    ExtractConfig,
)
from models.core.data import Dataset
from models.core.calibration import expected_calibration_error
from models.core.forensics import compare_to_control, teacher_mistakes_shared
from models.core.loss import log_probs_at, soft_target_term
from models.core.nets import build_student, count_params
from models.experiments.queries import query_set
from models.base.results import ExtractionResult, Outcome, Progress
from models.core.checkpoints import load_teacher, teacher_digest
from models.core.training import (
    BATCH_ORDER_OFFSET,
    FitSettings,
    ProgressFn,
    TrainingSet,
    accuracy,
    epochs_for_size,
    fit,
    hard_label_loss,
    no_progress,
    predict_logits,
)

QUERY_BUDGETS = (100, 300, 1000, 3000, 10000, 30000, 60000)
NOISE_SEED_OFFSET = 7919  # the defence's noise stream must differ from the copier's query stream (same seed)
SAMPLE_SEED_OFFSET = 104729  # the API's sampling stream, apart from both
INDEPENDENT_SEED_OFFSET = 3  # the independent model's images: not the copier's
# (rows, columns) moved: none first, then the four neighbours and the four diagonals. MNIST digits
# have a blank border, so rolling by a pixel wraps only background round the edge.
ONE_PIXEL_SHIFTS = ((0, 0), (0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (-1, -1), (1, -1), (-1, 1))
# What a provider can choose to return: each answer mode as it is, plus probabilities with noise.
ANSWER_VARIANTS = (tuple((mode, "none") for mode in ANSWER_MODES)
                   + tuple(("probs", defence) for defence in DEFENCES if defence != "none"))


# The budget curve's lines: (answer mode, asks per image). Sampled replies at 1, 4 and 16 per image
# show a chat model's answers adding up to its probabilities.
CURVE_LINES = (("probs", 1), ("top3", 1), ("rounded", 1), ("label", 1), ("sample", 1), ("sample", 4), ("sample", 16))


# How each answer mode and defence reads in a chart legend or a CLI line.
ANSWER_LABELS = {"probs": "full probabilities", "top3": "top-3 probabilities", "label": "top label only",
                 "rounded": "probabilities rounded to 0.1",
                 "sample": "one sampled label per exchange (like a chat reply)"}
DEFENCE_LABELS = {"none": "", "noise": " + fresh noise", "fixed-noise": " + noise fixed per image"}


def variant_label(answers: str, defence: str, samples_per_image: int = 1, api_temperature: float = 1.0) -> str:
    label = ANSWER_LABELS[answers] + DEFENCE_LABELS[defence]
    if answers == "sample":
        hot = f" at T = {api_temperature:g}" if api_temperature != 1.0 else ""
        return f"sampled digits{hot}, {samples_per_image} per image"
    return label + (f", asked {samples_per_image}× per image" if samples_per_image > 1 else "")


def curve_config(answers: str, samples_per_image: int, exchanges: int, **fields) -> ExtractConfig:
    """A budget-curve point: `exchanges` answers paid for, spread over exchanges // S images."""
    return ExtractConfig(queries=max(1, exchanges // samples_per_image), answers=answers,
                         samples_per_image=samples_per_image, **fields)


class PredictionAPI:
    """The teacher as a service: images in, answers out, every answer counted.

    answers: probs (10 probabilities), top3 (the 3 largest, the rest 0), label (one int per image),
    rounded (probabilities rounded to one decimal), sample (one digit drawn from the teacher's
    softmax at api_temperature: what a chat reply is). defence "noise" perturbs the returned
    probabilities afresh on every answer, "fixed-noise" by an amount fixed per image (from the
    image's bytes and a server secret); neither changes the top label.
    """

    def __init__(self, teacher: nn.Module, answers: str = "probs", defence: str = "none", seed: int = 0,
                 noise_scale: float = DEFAULT_NOISE, api_temperature: float = 1.0):
        if answers not in ANSWER_MODES:
            raise ConfigError(f"unknown answer mode {answers!r}; choose one of: {', '.join(ANSWER_MODES)}")
        if defence not in DEFENCES:
            raise ConfigError(f"unknown defence {defence!r}; choose one of: {', '.join(DEFENCES)}")
        self._teacher = teacher
        self.answers, self.defence = answers, defence
        self._noise = torch.Generator().manual_seed(seed + NOISE_SEED_OFFSET)
        self._sampling = torch.Generator().manual_seed(seed + SAMPLE_SEED_OFFSET)
        self._secret = hashlib.sha256(f"server secret {seed}".encode()).digest()[:16]  # unknown to copiers
        self._noise_scale = noise_scale
        self._api_temperature = api_temperature
        self.queries_served = 0

    def _fixed_noise(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 10) standard normal noise, the same for the same image bytes every time."""
        rows = []
        for image in images:
            digest = hashlib.blake2b(image.numpy().tobytes(), key=self._secret, digest_size=8).digest()
            rows.append(torch.randn(10, generator=torch.Generator().manual_seed(int.from_bytes(digest, "big") >> 1)))
        return torch.stack(rows) if rows else torch.zeros(0, 10)

    def ask_shifted(self, images: torch.Tensor, times: int) -> torch.Tensor:
        """Ask `times` times, each about the images moved by a different one-pixel shift (the first
        unshifted): to the server each is a new image, so noise fixed per image is drawn afresh. The
        answers are combined per original image as `ask` combines repeats."""
        answers = [self.ask(torch.roll(images, shifts=ONE_PIXEL_SHIFTS[k % len(ONE_PIXEL_SHIFTS)], dims=(2, 3)))
                   for k in range(times)]
        if self.answers in ("sample", "label"):
            return torch.stack(answers).mean(0)
        return torch.stack(answers).clamp_min(1e-12).log().mean(0).softmax(1)

    def ask(self, images: torch.Tensor, times: int = 1) -> torch.Tensor:
        """Ask about every image `times` times and combine the answers as a careful copier would: digits
        are counted (their mix estimates the probabilities), probabilities are averaged in log space
        (noise added to log-probabilities cancels there). Returns a distribution per image; every ask
        is one exchange. The teacher runs once per image: it is deterministic, so only the sampling
        and the fresh noise differ between asks."""
        self.queries_served += len(images) * times
        logits = predict_logits(self._teacher, images)
        if self.answers == "sample":
            probs = (logits / self._api_temperature).softmax(1)
            digits = torch.multinomial(probs, times, replacement=True, generator=self._sampling)
            return F.one_hot(digits, 10).float().mean(1)
        probs = logits.softmax(1)
        fixed = self._fixed_noise(images) if self.defence == "fixed-noise" else None  # the same on every ask
        answers = [as_distribution(self._reply(self._defended(probs, images, fixed))) for _ in range(times)]
        if self.answers == "label":
            return torch.stack(answers).mean(0)
        return torch.stack(answers).clamp_min(1e-12).log().mean(0).softmax(1)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """One exchange per image: (N, 10) float answers, or (N,) int64 digits (label and sample)."""
        if self.answers == "sample":
            return self.ask(images).argmax(1)
        self.queries_served += len(images)
        return self._reply(self._defended(predict_logits(self._teacher, images).softmax(1), images))

    def _defended(self, probs: torch.Tensor, images: torch.Tensor, fixed: torch.Tensor | None = None) -> torch.Tensor:
        """The probabilities after the defence: fresh noise per answer, or the image's fixed noise."""
        if self.defence == "none":
            return probs
        if self.defence == "fixed-noise":
            noise = fixed if fixed is not None else self._fixed_noise(images)
        else:
            noise = torch.randn(probs.shape, generator=self._noise)
        return perturb_keeping_top(probs, self._noise_scale * noise)

    def _reply(self, probs: torch.Tensor) -> torch.Tensor:
        if self.answers == "label":
            return probs.argmax(1)
        if self.answers == "top3":
            top = probs.topk(3, dim=1)
            return torch.zeros_like(probs).scatter(1, top.indices, top.values)
        if self.answers == "rounded":
            return torch.round(probs * 10) / 10
        return probs


def perturb_keeping_top(probs: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Noise added to the log-probabilities, renormalised, then the original top class swapped back on top."""
    noisy = (probs.clamp_min(1e-12).log() + noise).softmax(1)
    rows = torch.arange(len(probs))
    top, new_top = probs.argmax(1), noisy.argmax(1)
    top_value, new_value = noisy[rows, top].clone(), noisy[rows, new_top].clone()
    noisy[rows, new_top] = top_value
    noisy[rows, top] = new_value
    return noisy


def as_distribution(answers: torch.Tensor) -> torch.Tensor:
    """An answer as what a user holds: digits become one-hot, probabilities are renormalised."""
    if answers.dtype == torch.int64:
        return F.one_hot(answers, 10).float()
    return answers / answers.sum(1, keepdim=True).clamp_min(1e-12)


def answers_to_targets(answers: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """What the copier trains on: a distribution per image, re-softened at its temperature.

    Probabilities are the teacher's logits up to a constant (log p = z - logsumexp z), so a copier
    can re-soften them at any temperature: softmax(log p / T) = softmax(z / T), exactly the soft
    targets of distillation. Answers that zero out classes (top-3, rounded) lose that information.
    """
    probs = as_distribution(answers)
    if temperature == 1.0 or answers.dtype == torch.int64:  # a bare digit has nothing to re-soften
        return probs
    return (probs.clamp_min(1e-30).log() / temperature).softmax(1)


def soft_cross_entropy(temperature: float):
    """The copier's loss on (copy logits, target distributions, unused labels): distillation's soft
    term, T² included, with the answers in place of the teacher's soft targets."""
    def loss(outputs: torch.Tensor, targets: torch.Tensor, _labels) -> torch.Tensor:
        return soft_target_term(log_probs_at(outputs, temperature), targets, temperature)
    return loss


def train_copy(queries: torch.Tensor, targets: torch.Tensor, config: ExtractConfig,
               on_progress: ProgressFn = no_progress) -> nn.Module:
    """Fit a fresh student to (query, answer) pairs with soft cross-entropy. Nothing else goes in."""
    torch.manual_seed(config.seed)
    copy = build_student(config.student)
    epochs = epochs_for_size(config.queries)
    settings = FitSettings(epochs, config.batch_size, config.learning_rate, config.seed + BATCH_ORDER_OFFSET)
    fit({"copy": copy}, {"copy": soft_cross_entropy(config.copier_temperature)},
        TrainingSet(queries, targets=targets), settings,
        lambda epoch: on_progress(Progress("copy", epoch, epochs, epoch_end=True)))
    return copy.eval()


def train_independent(config: ExtractConfig, dataset: Dataset) -> nn.Module:
    """The forensics control: the copy's architecture and budget, trained on true labels of other
    training images, never on the teacher's answers."""
    generator = torch.Generator().manual_seed(config.seed + INDEPENDENT_SEED_OFFSET)
    index = torch.randperm(dataset.train_size, generator=generator)[: min(config.queries, dataset.train_size)]
    torch.manual_seed(config.seed + INDEPENDENT_SEED_OFFSET)
    model = build_student(config.student)
    epochs = epochs_for_size(len(index))
    settings = FitSettings(epochs, config.batch_size, config.learning_rate, config.seed + BATCH_ORDER_OFFSET)
    fit({"independent": model}, {"independent": hard_label_loss},
        TrainingSet(dataset.train_x[index], dataset.train_y[index]), settings, lambda epoch: None)
    return model.eval()


def run_extraction(config: ExtractConfig, dataset: Dataset, on_progress: ProgressFn = no_progress
                   ) -> tuple[ExtractionResult, dict]:
    """Copy the teacher through its API; returns the graded result and the copy's weights."""
    started = time.perf_counter()
    teacher = load_teacher(config.teacher)
    queries = query_set(config.source, config.queries, config.seed, dataset)
    api = PredictionAPI(teacher, config.answers, config.defence, config.seed, config.defence_strength,
                        config.api_temperature)
    asked = (api.ask_shifted(queries.images, config.samples_per_image) if config.shift_repeats
             else api.ask(queries.images, config.samples_per_image))
    targets = answers_to_targets(asked, config.copier_temperature)
    copy = train_copy(queries.images, targets, config, on_progress)
    # Grading, done by the lab, not the copier: the copy against true labels and against the teacher,
    # and the forensic check against a model of the same size and budget trained independently.
    copy_logits, teacher_logits_ = predict_logits(copy, dataset.test_x), predict_logits(teacher, dataset.test_x)
    copy_predictions, teacher_predictions = copy_logits.argmax(1), teacher_logits_.argmax(1)
    independent, paired = None, {}
    if config.forensics:
        independent_logits = predict_logits(train_independent(config, dataset), dataset.test_x)
        independent = teacher_mistakes_shared(independent_logits.argmax(1), teacher_predictions, dataset.test_y)
        report = compare_to_control(copy_logits, independent_logits, teacher_logits_, dataset.test_y, seed=config.seed)
        paired = dict(teacher_second_choice_shared=report.suspect_second_choice_shared,
                      independent_second_choice_shared=report.control_second_choice_shared,
                      mistakes_mcnemar_p=report.mistakes_mcnemar_p,
                      second_choice_mcnemar_p=report.second_choice_mcnemar_p,
                      second_choice_gap_ci=list(report.second_choice_gap_ci))
    result = ExtractionResult(
        queries=config.queries, exchanges=api.queries_served, samples_per_image=config.samples_per_image,
        copier_temperature=config.copier_temperature,
        teacher_mistakes_shared=teacher_mistakes_shared(copy_predictions, teacher_predictions, dataset.test_y),
        independent_mistakes_shared=independent,
        answers=config.answers, source=config.source, source_name=queries.name,
        source_notice=queries.notice, defence=config.defence,
        defence_strength=config.defence_strength if config.defence != "none" else None,
        copy_accuracy=(copy_predictions == dataset.test_y).float().mean().item(),
        fidelity=(copy_predictions == teacher_predictions).float().mean().item(),
        teacher_accuracy=(teacher_predictions == dataset.test_y).float().mean().item(),
        student=config.student, student_params=count_params(copy), epochs=epochs_for_size(config.queries),
        seconds=round(time.perf_counter() - started, 2), dataset=dataset.summary(),
        teacher_digest=teacher_digest(config.teacher), **paired)
    return result, {k: v.cpu() for k, v in copy.state_dict().items()}


NLL_FLOOR = 1e-4  # a received probability below this counts as this: a wrong "100 %" would cost infinity


def answer_costs(teacher: nn.Module, dataset: Dataset, strength: float = DEFAULT_NOISE) -> list[dict]:
    """What each way of answering costs an honest user, measured on what they actually receive
    (one exchange per test digit), against the true labels. One unit per figure:

    top_label_agreement, accuracy, calibration_error: fractions in [0, 1] (pages show percent);
    nll: mean negative log-likelihood of the true digit, in nats (received probabilities floored
    at NLL_FLOOR); brier: mean squared distance to the one-hot truth, from 0 (perfect) to 2.
    """
    teacher_top = predict_logits(teacher, dataset.test_x).argmax(1)
    truth = F.one_hot(dataset.test_y, 10).float()
    rows = []
    for answers, defence in ANSWER_VARIANTS:
        api = PredictionAPI(teacher, answers, defence, seed=0, noise_scale=strength)
        received = as_distribution(api.query(dataset.test_x))
        rows.append({
            "answers": answers, "defence": defence, "label": variant_label(answers, defence),
            "top_label_agreement": accuracy(received, teacher_top),
            "accuracy": accuracy(received, dataset.test_y),
            "nll": -received.gather(1, dataset.test_y[:, None]).clamp_min(NLL_FLOOR).log().mean().item(),
            "brier": (received - truth).pow(2).sum(1).mean().item(),
            "calibration_error": expected_calibration_error(received, dataset.test_y),
        })
    return rows


def run(config: ExtractConfig, dataset: Dataset, on_progress: ProgressFn = no_progress) -> Outcome:
    """The graded copy and its weights."""
    return Outcome(*run_extraction(config, dataset, on_progress))
