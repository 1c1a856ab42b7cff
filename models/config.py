"""Frozen, typed configs: one per kind of run.

A widget or a CLI flag builds one, the engine runs it, and the store keeps it beside the result.
Validation lives here so the UI and the CLI reject bad values with the same one-line reason.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from models.nets import STUDENT_PRESETS


class ConfigError(ValueError):
    """A bad value, with a one-line reason that names the valid range."""


def check_seed(seed: int) -> None:
    if not 0 <= seed < 2**31:
        raise ConfigError(f"seed must be between 0 and {2**31 - 1}, got {seed}")


def check_student(name: str) -> None:
    if name not in STUDENT_PRESETS:
        raise ConfigError(f"unknown student {name!r}; choose one of: {', '.join(STUDENT_PRESETS)}")


def check_temperature(temperature: float) -> None:
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0):
        raise ConfigError(f"temperature T must be a number greater than 0, got {temperature}")


def check_epochs(epochs: int, most: int = 500) -> None:
    if not 1 <= epochs <= most:
        raise ConfigError(f"epochs must be between 1 and {most}, got {epochs}")


@dataclass(frozen=True)
class TeacherConfig:
    """Train the teacher CNN on the whole training set."""

    epochs: int = 2
    seed: int = 0
    batch_size: int = 256
    max_lr: float = 4e-3

    def __post_init__(self) -> None:
        check_epochs(self.epochs, most=50)
        check_seed(self.seed)


@dataclass(frozen=True)
class DistillConfig:
    """Distil one student from a teacher, and train its scratch twin beside it.

    alpha is the weight on the teacher's soft targets; 1 - alpha weighs the hard labels.
    train_size 0 means the whole training set.
    """

    student: str = "mlp-100"
    # Defaults chosen so the lesson shows: with 2,000 transfer images the scratch twin overfits
    # and the teacher's soft targets help by about 3 points (README, "Defaults that teach").
    temperature: float = 8.0
    alpha: float = 0.9
    train_size: int = 2000
    epochs: int = 50
    seed: int = 0
    teacher: str = "pretrained"
    batch_size: int = 128
    learning_rate: float = 1e-3
    omit_class: int | None = None

    def __post_init__(self) -> None:
        check_student(self.student)
        check_temperature(self.temperature)
        if not (math.isfinite(self.alpha) and 0.0 <= self.alpha <= 1.0):
            raise ConfigError(f"alpha must lie in [0, 1], got {self.alpha}")
        if self.train_size < 0:
            raise ConfigError(f"train size must be at least 1 (or 0 for all), got {self.train_size}")
        check_epochs(self.epochs)
        check_seed(self.seed)
        if self.omit_class is not None and not 0 <= self.omit_class <= 9:
            raise ConfigError(f"omitted class must be a digit 0-9, got {self.omit_class}")

    def with_seed(self, seed: int) -> "DistillConfig":
        return dataclasses.replace(self, seed=seed)

    def check_train_size(self, available: int) -> None:
        """Raise if the transfer set asks for more images than the dataset holds."""
        if self.train_size > available:
            raise ConfigError(
                f"train size must be between 1 and {available} (the training images available), "
                f"got {self.train_size}")

