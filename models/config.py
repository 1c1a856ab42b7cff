"""Frozen, typed configs: one per kind of run, and the checks they share.

A widget or a CLI flag builds one, the engine runs it, and the store keeps it beside the result.
Validation lives here so the UI and the CLI reject bad values with the same one-line reason. This
module imports no torch, so the CLI can refuse a bad flag before loading it.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path

from models.news import REPORTED_PER_ACCOUNT
from models.errors import ConfigError, StoreError, TeacherError  # noqa: F401  (re-exported)

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

@dataclass(frozen=True)
class TeacherConfig:
    """Train the teacher CNN on the training set (train_size 0 = all of it; fewer for a quick smoke run)."""

    epochs: int = 2
    seed: int = 0
    batch_size: int = 256
    max_lr: float = 6e-3  # peak of the one-cycle schedule
    train_size: int = 0
    # The bundled teacher was trained with dropout 0.3 and max_lr 4e-3 (its teacher.json says so).
    # Without dropout each step is a third cheaper and two epochs still reach 99 % (bench.engine).
    dropout: float = 0.0

    def __post_init__(self) -> None:
        check_epochs(self.epochs, most=50)
        check_seed(self.seed)
        check_train_size(self.train_size)
        if not (math.isfinite(self.max_lr) and 0 < self.max_lr <= 1):
            raise ConfigError(f"the peak learning rate must lie in (0, 1], got {self.max_lr}")
        if not (math.isfinite(self.dropout) and 0 <= self.dropout < 1):
            raise ConfigError(f"dropout must lie in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class DistillConfig:
    """Distil one student from a teacher, and train its scratch twin beside it.

    alpha is the weight on the teacher's soft targets; 1 - alpha weighs the hard labels.
    train_size 0 means the whole training set.
    """

    student: str = "mlp-100"
    # Chosen on validation images, never the test set (`python -m bench.defaults`; README, "Defaults
    # that teach"): with 2,000 transfer images the scratch twin overfits and soft targets help most.
    temperature: float = 20.0
    alpha: float = 0.9
    train_size: int = 2000
    epochs: int = 50
    seed: int = 0
    teacher: str = "pretrained"
    batch_size: int = 128
    learning_rate: float = 1e-3
    omit_class: int | None = None
    controls: bool = False  # also train a smoothed-label twin and a shuffled-teacher twin (models/experiments/controls.py)

    def __post_init__(self) -> None:
        check_student(self.student)
        check_temperature(self.temperature)
        check_alpha(self.alpha)
        check_train_size(self.train_size)
        check_epochs(self.epochs)
        check_seed(self.seed)
        if self.omit_class is not None and not 0 <= self.omit_class <= 9:
            raise ConfigError(f"omitted class must be a digit 0-9, got {self.omit_class}")

    def with_seed(self, seed: int) -> "DistillConfig":
        return dataclasses.replace(self, seed=seed)

    def check_train_size(self, available: int) -> None:
        """Raise if the transfer set asks for more images than the dataset holds."""
        check_train_size(self.train_size, available)


# The paper's setup as closely as ~90 s on two CPU cores allow: 2 x 800 student, T = 20, all
# training images but the 3s. Measured: 92.7 % of test 3s right, 97.3 % after the bias shift.
MISSING_DIGIT_DEFAULTS = DistillConfig(student="mlp-800", temperature=20.0, alpha=0.9, train_size=0,
                                       epochs=15, omit_class=3)


def _check_students_and_temperatures(students: tuple, temperatures: tuple) -> None:
    if not students:
        raise ConfigError("give at least one student")
    if not temperatures:
        raise ConfigError("give at least one temperature")
    for name in students:
        check_student(name)
    for temperature in temperatures:
        check_temperature(temperature)


@dataclass(frozen=True)
class SweepCell:
    """One student and seed, trained at several temperatures beside one shared scratch twin."""

    student: str
    temperatures: tuple
    seed: int = 0
    train_size: int = 5000
    epochs: int = 10
    alpha: float = 0.9
    teacher: str = "pretrained"
    controls: bool = False  # also a smoothed-label and a shuffled-teacher twin at every temperature

    def __post_init__(self) -> None:
        object.__setattr__(self, "temperatures", tuple(float(t) for t in self.temperatures))
        _check_students_and_temperatures((self.student,), self.temperatures)
        check_epochs(self.epochs)
        check_seed(self.seed)
        check_alpha(self.alpha)
        check_train_size(self.train_size)


@dataclass(frozen=True)
class SweepConfig:
    """Every student × every temperature × seeds S..S+K-1, at one transfer-set size."""

    students: tuple = ("mlp-30", "mlp-100", "mlp-300")
    # The paper found T = 2.5-4 best for small students, T = 20 for big ones: both ends are in.
    temperatures: tuple = (1.0, 2.5, 4.0, 8.0, 20.0)
    seeds: int = 3  # the fewest seeds that get a verdict (models/core/stats.py)
    seed: int = 0
    train_size: int = 2000  # the Distil page's defaults, so the same setting reads the same on both pages
    epochs: int = 50
    alpha: float = 0.9
    teacher: str = "pretrained"
    controls: bool = False

    def __post_init__(self) -> None:
        _check_students_and_temperatures(self.students, self.temperatures)
        check_seeds(self.seed, self.seeds)
        self.cells()  # validates the rest

    def cells(self) -> list[SweepCell]:
        return [SweepCell(student, tuple(self.temperatures), self.seed + k, self.train_size, self.epochs,
                          self.alpha, self.teacher, self.controls)
                for k in range(self.seeds) for student in self.students]


PAPER_TEACHER = "paper"  # HintonConfig.teacher: train the paper's own 2 × 1200 dropout teacher


@dataclass(frozen=True)
class HintonConfig:
    """The paper's MNIST table (models/hinton.py).

    teacher "paper" trains the paper's 2 × 1200 teacher for `epochs` too (the full budget is
    FULL_BUDGET_EPOCHS); any other value is a CNN checkpoint ('pretrained' or a path) that teaches
    instead: the laptop version, which shows the paper's shape in minutes on a CPU.
    """

    epochs: int = LAPTOP_TABLE_EPOCHS
    seed: int = 0
    teacher: str = "pretrained"
    temperature: float = 20.0
    alpha: float = 0.9
    batch_size: int = 128
    learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        check_epochs(self.epochs, most=1000)
        check_seed(self.seed)
        check_temperature(self.temperature)
        check_alpha(self.alpha)


@dataclass(frozen=True)
class ExtractConfig:
    """Copy the teacher through its answers (models/extraction.py)."""

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
    """Simulated honest and copying accounts for the query detector (models/detector.py)."""

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


# The chat lessons (models/experiments/chat_copy.py). What the chat API reveals per reply position:
# nothing but the text, the top k log-probabilities, or the full next-character distribution (None).
CHAT_TOP_K = {"text": 0, "top1": 1, "top5": 5, "top20": 20, "full": None}
CHAT_PROMPT_SOURCES = ("plays", "made-up")  # lines from plays the teacher never read, or invented ones
CHAT_STUDENTS = ("gru-64", "gru-96", "gru-160")
MAX_REPLY_CHARS = 400
MAX_CHAT_EXCHANGES = 20_000


@dataclass(frozen=True)
class ChatCopyConfig:
    """Copy the chat teacher through its replies; beside the copy its scratch twin, trained on as
    many characters of human replies from the same starting weights."""

    answers: str = "text"
    exchanges: int = 1000
    reply_chars: int = 200  # the longest reply the API writes
    prompts: str = "plays"
    temperature: float = 1.0  # the service's sampling temperature
    top_p: float = 1.0  # 1 samples from the whole distribution; below 1 from the top-p nucleus only
    student: str = "gru-96"
    seed: int = 0
    teacher: str = "pretrained"
    epochs: int = 0  # 0: as many as the characters call for (ChatCopyConfig.epochs_for)

    def __post_init__(self) -> None:
        _one_of("answer mode", self.answers, tuple(CHAT_TOP_K))
        _one_of("prompt source", self.prompts, CHAT_PROMPT_SOURCES)
        _one_of("chat student", self.student, CHAT_STUDENTS)
        if not 1 <= self.exchanges <= MAX_CHAT_EXCHANGES:
            raise ConfigError(f"exchanges must be between 1 and {MAX_CHAT_EXCHANGES}, got {self.exchanges}")
        if not 1 <= self.reply_chars <= MAX_REPLY_CHARS:
            raise ConfigError(f"reply length must be between 1 and {MAX_REPLY_CHARS} characters, got {self.reply_chars}")
        if not (isinstance(self.temperature, (int, float)) and 0.25 <= self.temperature <= 4):
            raise ConfigError(f"service temperature must lie in [0.25, 4], got {self.temperature}")
        if not (isinstance(self.top_p, (int, float)) and 0 < self.top_p <= 1):
            raise ConfigError(f"top-p must lie in (0, 1], got {self.top_p}")
        if self.epochs:
            check_epochs(self.epochs, most=100)
        check_seed(self.seed)

    def epochs_for(self, characters: int) -> int:
        """Fewer characters, more passes: about 400,000 characters of training in all, 3 to 30 passes."""
        return self.epochs or max(3, min(30, round(400_000 / max(characters, 1))))
