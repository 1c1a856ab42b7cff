"""What each kind of run returns, and the one progress record every training loop reports.

Every experiment's `run(config, dataset, on_progress)` returns an `Outcome`: its result and the
weights worth keeping (or None).

Plain frozen dataclasses (no torch), so the store, the CLI and the pages share them. `to_json`
gives what the store keeps; `from_json` reads it back and tolerates rows written by older versions
(unknown keys are ignored, renamed keys are mapped).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


class JsonRecord:
    """to_json / from_json for a flat dataclass; subclasses map nested or renamed fields."""

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict):
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True)
class Outcome:
    """What one run of an experiment produced: its typed result, and the tensors to keep (a
    student and its twin, a copy; a teacher's state dict) or None."""

    result: "JsonRecord"
    weights: dict | None = None


@dataclass(frozen=True)
class Progress(JsonRecord):
    """Where a run is. curves: one point per finished epoch, {"epoch": e, model name: test accuracy};
    losses: [fractional epoch, training loss] pairs (the teacher's live curve)."""

    stage: str = "training"
    epoch: float = 0.0
    of: int = 0
    step: int = 0
    curves: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    epoch_end: bool = False

    @classmethod
    def from_json(cls, data: dict) -> "Progress":
        if "loss_curve" in data:  # teacher progress stored before one record served every loop
            data = {**data, "losses": data["loss_curve"],
                    "curves": [{"epoch": p["epoch"], "teacher": p["test_accuracy"]} for p in data.get("curve", [])]}
        return super().from_json(data)

    @property
    def fraction(self) -> float:
        return min(1.0, self.epoch / self.of) if self.of else 0.0


@dataclass(frozen=True)
class TeacherResult(JsonRecord):
    """A teacher CNN trained by the app or the CLI. test_accuracy in [0, 1]."""

    test_accuracy: float
    params: int
    epochs: int
    seconds: float
    dataset: dict
    device: str
    curves: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    checkpoint: str = ""

    def sidecar(self) -> dict:
        """What the JSON file beside a saved checkpoint records about it."""
        return {k: getattr(self, k) for k in ("test_accuracy", "params", "epochs", "seconds", "dataset", "device")}

    @classmethod
    def from_json(cls, data: dict) -> "TeacherResult":
        if "loss_curve" in data:  # stored by an older version
            data = {**data, "losses": data["loss_curve"],
                    "curves": [{"epoch": p["epoch"], "teacher": p["test_accuracy"]} for p in data["curve"]]}
        return super().from_json(data)


@dataclass(frozen=True)
class MissingDigitReport(JsonRecord):
    """Accuracies in [0, 1] on the test images of the omitted digit, and overall."""

    omitted_class: int
    omitted_class_accuracy: float
    omitted_class_accuracy_adjusted: float
    scratch_omitted_class_accuracy: float
    bias_shift: float
    overall_accuracy_adjusted: float
    test_images_of_class: int
    validation_size: int
    scratch_bias_shift: float | None = None  # the twin's own validation-chosen shift (None in older runs)
    scratch_omitted_class_accuracy_adjusted: float | None = None


# The measured figures of a missing-digit report: what a multi-seed summary averages.
MISSING_DIGIT_FIGURES = ("omitted_class_accuracy", "omitted_class_accuracy_adjusted", "scratch_omitted_class_accuracy",
                         "scratch_omitted_class_accuracy_adjusted", "bias_shift", "scratch_bias_shift",
                         "overall_accuracy_adjusted")


@dataclass(frozen=True)
class DistillResult(JsonRecord):
    """A distilled student beside its scratch twin. Accuracies are fractions of the full test set.
    Its config is the run's own (`Run.config`), stored once."""

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
    missing_digit: MissingDigitReport | None = None
    teacher_digest: str = ""  # "" in runs stored before digests were recorded
    smoothed_accuracy: float | None = None  # controls (None when not trained): label smoothing of equal entropy
    shuffled_accuracy: float | None = None  # and the teacher's soft targets with its resemblances shuffled
    smoothing: float | None = None  # the label-smoothing ε matched to the teacher's mean entropy at T
    # Forensics (models/core/forensics.py): of the teacher's test mistakes, the share each model repeats.
    teacher_mistakes_shared: float | None = None  # the distilled student
    scratch_mistakes_shared: float | None = None  # its scratch twin, which never saw the teacher
    # Paired against the twin on the same digits (forensics.compare_to_control): where both agree with
    # the teacher's top answer, the share that also names its runner-up; exact McNemar p-values.
    teacher_second_choice_shared: float | None = None
    scratch_second_choice_shared: float | None = None
    mistakes_mcnemar_p: float | None = None
    second_choice_mcnemar_p: float | None = None
    # The gain's test-set part: test digits only the student gets right, only its twin gets right.
    discordant: list | None = None
    gain_mcnemar_p: float | None = None

    @property
    def gain_test_se(self) -> float | None:
        """The standard error of this run's paired gain from the test digits alone (McNemar's
        variance of a paired difference of proportions), which averaging seeds does not shrink."""
        if not self.discordant:
            return None
        only_student, only_twin = self.discordant
        n = self.dataset.get("test_size") or 10_000
        return ((only_student + only_twin) - (only_student - only_twin) ** 2 / n) ** 0.5 / n

    @classmethod
    def from_json(cls, data: dict) -> "DistillResult":
        report = data.get("missing_digit")
        return super().from_json({**data, "missing_digit": MissingDigitReport.from_json(report) if report else None})


@dataclass(frozen=True)
class SweepCellResult(JsonRecord):
    """One sweep cell: the shared scratch twin's accuracy and the distilled accuracy at each T ("T" -> acc)."""

    student: str
    seed: int
    train_size: int
    epochs: int
    alpha: float
    scratch: float
    distilled: dict
    seconds: float
    dataset: dict
    teacher_digest: str = ""
    smoothed: dict | None = None  # controls, "T" -> accuracy, when the cell trained them
    shuffled: dict | None = None


@dataclass(frozen=True)
class HintonResult(JsonRecord):
    """The paper's table rerun: test errors out of test_size."""

    teacher_errors: int
    scratch_errors: int
    distilled_errors: int
    paper_errors: dict
    test_size: int
    epochs: int
    budget: str
    note: str
    seconds: float
    device: str
    dataset: dict


@dataclass(frozen=True)
class ExtractionResult(JsonRecord):
    """A copy made from answers alone, graded by the lab on the test set (fractions in [0, 1])."""

    queries: int  # distinct images asked about
    answers: str
    source: str
    source_name: str
    source_notice: str
    defence: str
    defence_strength: float | None
    copy_accuracy: float
    fidelity: float
    teacher_accuracy: float
    student: str
    student_params: int
    epochs: int
    seconds: float
    dataset: dict
    teacher_digest: str = ""
    # Stored since sampled answers and forensics (older runs: one exchange per image, no forensics).
    exchanges: int | None = None  # answers served: images × samples per image
    samples_per_image: int = 1
    copier_temperature: float | None = None
    teacher_mistakes_shared: float | None = None  # of the teacher's test mistakes, share the copy repeats
    independent_mistakes_shared: float | None = None  # the same for a model trained on true labels
    # Paired against the independent model (forensics.compare_to_control); None without forensics.
    teacher_second_choice_shared: float | None = None  # the copy's runner-up agreement with the teacher
    independent_second_choice_shared: float | None = None
    mistakes_mcnemar_p: float | None = None
    second_choice_mcnemar_p: float | None = None
    second_choice_gap_ci: list | None = None  # bootstrap 95 % interval of copy − independent

    @property
    def images(self) -> int:
        return self.queries


@dataclass(frozen=True)
class ChatCopyResult(JsonRecord):
    """A chat copy and its scratch twin, graded on held-out plays. Bits per character are of the
    human replies there; agreement and KL compare each model's next character with the teacher's."""

    answers: str
    prompts: str
    exchanges: int
    characters: int  # reply characters the copier received
    reply_chars: int
    temperature: float
    top_p: float
    student: str
    student_params: int
    epochs: int
    bits_per_char: float
    scratch_bits_per_char: float
    teacher_bits_per_char: float
    teacher_agreement: float
    scratch_agreement: float
    kl_to_teacher: float
    scratch_kl_to_teacher: float
    canary_exposure: float
    scratch_canary_exposure: float
    teacher_canary_exposure: float
    independent_canary_exposure: float | None  # None where the independent model is not shipped
    canary_replies: int  # replies the copier received that hold the canary's code
    samples: list  # a few held-out prompts: {"prompt", "human", "teacher", "copy", "twin"}
    seconds: float
    # Of the graded reply positions, the share where the teacher's top choice is above 90 % and 50 %.
    teacher_sure_share: float | None = None
    teacher_better_than_even_share: float | None = None


@dataclass(frozen=True)
class CopierDetection(JsonRecord):
    detection_rate: float
    mean_unsure_fraction: float
    source_name: str
    source_notice: str
    roc: list = field(default_factory=list)  # [[false alarms, caught], ...] from the strictest threshold down
    auc: float | None = None  # chance an account of this copier scores above an honest one (0.5 = invisible)


@dataclass(frozen=True)
class DetectorResult(JsonRecord):
    """The detector's threshold, its false alarms on fresh honest accounts, and each copier's catch rate."""

    threshold_unsure_fraction: float
    unsure_below: float
    honest_false_alarm_rate: float
    honest_mean_unsure_fraction: float
    copiers: dict  # source -> CopierDetection
    config: dict
    honest_false_alarm_ci: list | None = None  # 95 % Wilson interval of the false-alarm rate
    threshold_accounts: int | None = None  # honest accounts the threshold was set on

    @classmethod
    def from_json(cls, data: dict) -> "DetectorResult":
        copiers = {source: CopierDetection.from_json(c) for source, c in data["copiers"].items()}
        return super().from_json({**data, "copiers": copiers})
