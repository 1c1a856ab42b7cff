"""The checks every kind of run shares, and the names and ranges they check against.

Validation lives with the configs so the UI and the CLI reject bad values with the same one-line
reason.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

from models.base.errors import ConfigError

# mlp-W: two hidden layers of W units, as in Hinton et al.; cnn-tiny: a very small CNN (models/core/nets.py).
STUDENT_NAMES = ("mlp-10", "mlp-30", "mlp-100", "mlp-300", "mlp-800", "cnn-tiny")
ANSWER_MODES = ("probs", "top3", "label", "rounded", "sample")
# noise: fresh noise on every answer (asking twice and averaging cancels it); fixed-noise: noise
# derived from the image and a server secret, so the same image always gets the same answer.
DEFENCES = ("none", "noise", "fixed-noise")
SOURCES = ("mnist", "fashion", "noise")
ONE_HOT_ANSWERS = ("label", "sample")  # answers that are a digit, not a distribution: the copier trains at T = 1
MAX_SAMPLES_PER_IMAGE = 64
MAX_SEEDS = 10
# Outside these, softmax(logits / T) is one-hot or flat to float32 precision and training learns nothing
# (T = 1e20 trained to 9.8 %, T = 1e300 overflowed); the paper's range is 1 to 20.
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.1, 100.0
LAPTOP_TABLE_EPOCHS = 8  # chosen on validation by `python -m bench.laptop_epochs` (one-standard-error rule)
FULL_BUDGET_EPOCHS = 100  # the paper's table at full budget: epochs per model
# Standard deviation of the noise defence on log-probabilities. Measured with mlp-100 copies from
# 1,000 MNIST queries: 1 barely slows the copier (fidelity 91.8 -> 91.5 %), 3 costs it about what
# label-only answers do (89.4 %), 6 more (85.4 %) at a visible calibration cost to honest users.
DEFAULT_NOISE = 3.0
# Feature distillation (models/core/features.py): the loss on the teacher's insides, and which
# teacher layer the student's last hidden layer is projected onto.
FEATURE_KINDS = ("none", "hint", "cosine", "attention")
SPATIAL_STUDENTS = ("cnn-tiny",)  # attention transfer compares maps per position: a CNN student only
TEACHER_LAYERS = ("conv2", "fc1")
MAX_BETA = 100.0
DEFAULT_BETA = 1.0  # the feature term's weight when one is asked for without a weight (docs/science.md)
def _one_of(what: str, value: str, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"unknown {what} {value!r}; choose one of: {', '.join(allowed)}")


def check_seed(seed: int) -> None:
    if not 0 <= seed < 2**31:
        raise ConfigError(f"seed must be between 0 and {2**31 - 1}, got {seed}")


def check_seeds(first: int, count: int) -> None:
    """A run over seeds first..first+count-1: every one of them must be valid before the first starts."""
    if not 1 <= count <= MAX_SEEDS:
        raise ConfigError(f"seeds must be between 1 and {MAX_SEEDS}, got {count}")
    check_seed(first)
    if first + count - 1 >= 2**31:
        raise ConfigError(f"seeds {first} to {first + count - 1} run past the largest seed {2**31 - 1}; "
                          f"start at {2**31 - count} or lower")


def check_output_path(path: str, what: str) -> None:
    """An output file must be writable before any work starts (not after an hour of training)."""
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"{what} {path} is a directory; give a file name inside it")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(f"{what} {path}: folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ConfigError(f"{what} {path} is not writable; choose another place or fix its permissions")


def check_student(name: str) -> None:
    _one_of("student", name, STUDENT_NAMES)


def check_temperature(temperature: float) -> None:
    if not (isinstance(temperature, (int, float)) and MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE):
        raise ConfigError(f"temperature T must lie in [{MIN_TEMPERATURE:g}, {MAX_TEMPERATURE:g}], got {temperature}")


def check_alpha(alpha: float) -> None:
    if not (math.isfinite(alpha) and 0.0 <= alpha <= 1.0):
        raise ConfigError(f"alpha must lie in [0, 1], got {alpha}")


def check_epochs(epochs: int, most: int = 500) -> None:
    if not 1 <= epochs <= most:
        raise ConfigError(f"epochs must be between 1 and {most}, got {epochs}")


def check_train_size(train_size: int, available: int | None = None) -> None:
    """0 means all; with `available`, the transfer set must fit in the images there are."""
    if train_size < 0:
        raise ConfigError(f"train size must be at least 1 (or 0 for all), got {train_size}")
    if available is not None and train_size > available:
        raise ConfigError(f"train size must be between 1 and {available} (the training images available), "
                          f"got {train_size}")



def epochs_for_size(train_size: int, image_steps: int = 100_000) -> int:
    """Epochs giving every transfer-set size a similar training budget (3 to 200 passes)."""
    return max(3, min(200, round(image_steps / max(train_size, 1))))


def check_features(feature: str, beta: float, layer: str, student: str = "cnn-tiny") -> None:
    """A feature term needs a known loss, a known teacher layer and a weight β in (0, MAX_BETA];
    attention transfer needs a student with maps of its own and the teacher's conv2."""
    if feature not in FEATURE_KINDS:
        raise ConfigError(f"unknown feature loss {feature!r}; choose one of: {', '.join(FEATURE_KINDS)}")
    if layer not in TEACHER_LAYERS:
        raise ConfigError(f"unknown teacher layer {layer!r}; choose one of: {', '.join(TEACHER_LAYERS)}")
    if not (isinstance(beta, (int, float)) and math.isfinite(beta) and 0 <= beta <= MAX_BETA):
        raise ConfigError(f"beta (the weight on the feature term) must lie in [0, {MAX_BETA:g}], got {beta}")
    if feature == "none" and beta:
        raise ConfigError(f"beta {beta:g} weighs a feature term, but none was chosen; choose hint or cosine")
    if feature != "none" and not beta:
        raise ConfigError(f"a {feature} feature term needs a weight beta above 0")
    if feature == "attention" and (student not in SPATIAL_STUDENTS or layer != "conv2"):
        raise ConfigError(f"attention transfer compares the conv2 maps of teacher and student, so it needs the "
                          f"{' or '.join(SPATIAL_STUDENTS)} student (an MLP has no maps) and the teacher layer conv2")
