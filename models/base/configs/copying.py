"""The copying runs' configs: a copy through the teacher's answers, and the accounts detector."""
from __future__ import annotations

import math
from dataclasses import dataclass

from models.base.configs.checks import (
    ANSWER_MODES,
    DEFAULT_NOISE,
    DEFENCES,
    MAX_SAMPLES_PER_IMAGE,
    ONE_HOT_ANSWERS,
    SOURCES,
    _one_of,
    check_seed,
    check_student,
    check_temperature,
)
from models.base.errors import ConfigError
from models.base.news import REPORTED_PER_ACCOUNT


@dataclass(frozen=True)
class ExtractConfig:
    """Copy the teacher through its answers (models/experiments/extraction.py)."""

    queries: int = 1000
    answers: str = "probs"
    source: str = "mnist"
    defence: str = "none"
    student: str = "mlp-100"
    seed: int = 0
    teacher: str = "pretrained"
    defence_strength: float = DEFAULT_NOISE  # noise scale when defence == "noise"
    temperature: float = 4.0  # the copier re-softens probability answers; digits are learnt at T = 1
    batch_size: int = 128
    learning_rate: float = 1e-3
    # How many times the copier asks each image (and averages the answers): sampled labels add up to
    # an estimate of the teacher's probabilities; fresh noise averages away. queries counts images.
    samples_per_image: int = 1
    api_temperature: float = 1.0  # the temperature at which the API samples its replies
    # Also train the forensic control (a model of the copy's size on true labels, same budget), which
    # doubles the run's time; the budget curve and the defences table do not show it.
    forensics: bool = True
    # Ask the repeats about the image shifted by one pixel each time (a different image to the server,
    # so noise fixed per image is drawn afresh), and average them as the answer for the original.
    shift_repeats: bool = False

    @property
    def exchanges(self) -> int:
        """Answers the API serves: images times asks per image."""
        return self.queries * self.samples_per_image

    @property
    def copier_temperature(self) -> float:
        """Digits (one label per answer, or their average) are targets as they are: T = 1. Softening
        them would only shrink the loss by T² (the old label copier trained at T = 4 by mistake)."""
        return 1.0 if self.answers in ONE_HOT_ANSWERS else self.temperature

    def __post_init__(self) -> None:
        check_temperature(self.temperature)
        check_temperature(self.api_temperature)
        if not 1 <= self.samples_per_image <= MAX_SAMPLES_PER_IMAGE:
            raise ConfigError(f"samples per image must be between 1 and {MAX_SAMPLES_PER_IMAGE}, "
                              f"got {self.samples_per_image}")
        if not (math.isfinite(self.defence_strength) and 0 < self.defence_strength <= 20):
            raise ConfigError(f"defence strength must lie in (0, 20], got {self.defence_strength}")
        if not 1 <= self.queries <= 1_000_000:
            raise ConfigError(f"queries must be between 1 and 1000000, got {self.queries}")
        _one_of("answer mode", self.answers, ANSWER_MODES)
        _one_of("query source", self.source, SOURCES)
        _one_of("defence", self.defence, DEFENCES)
        check_student(self.student)
        check_seed(self.seed)


@dataclass(frozen=True)
class DetectorConfig:
    """Simulated honest and copying accounts for the query detector (models/experiments/detector.py)."""

    queries_per_account: int = REPORTED_PER_ACCOUNT
    honest_accounts: int = 200
    copier_accounts: int = 100
    false_alarm_target: float = 0.01
    seed: int = 0
    teacher: str = "pretrained"
    copier_real_share: float = 0.0  # share of real digits a copier mixes into its odd queries
    honest_odd_share: float = 0.0  # share of odd images (photos, doodles) honest users send

    def __post_init__(self) -> None:
        for name in ("copier_real_share", "honest_odd_share"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value <= 1):
                raise ConfigError(f"{name.replace('_', ' ')} must lie in [0, 1], got {value}")
        if not 10 <= self.queries_per_account <= 5000:
            raise ConfigError(f"queries per account must be between 10 and 5000, got {self.queries_per_account}")
        if not 10 <= self.honest_accounts <= 2000 or not 1 <= self.copier_accounts <= 2000:
            raise ConfigError("honest accounts must be 10-2000 and copier accounts 1-2000")
        if not 0 < self.false_alarm_target < 0.5:
            raise ConfigError(f"false-alarm target must lie in (0, 0.5), got {self.false_alarm_target}")
        check_seed(self.seed)
