"""The missing digit (Hinton et al. 2015, section 3): a student that never saw a digit can still
recognise it from the teacher's soft targets, once that class's output bias is raised.

The bias shift is chosen on a validation split carved from the training set (and kept out of the
transfer set); the test set is only ever used to report the result.
"""
from __future__ import annotations

import torch
from torch import nn

from models.core.data import Dataset
from models.base.results import MissingDigitReport
from models.core.training import accuracy, predict_logits

VALIDATION_SEED = 2015
BIAS_GRID = torch.arange(0.0, 20.01, 0.25)  # logit units


def validation_indices(train_size: int) -> torch.Tensor:
    """A fixed tenth of the training set (at most 5,000 images), the same for every run."""
    size = min(5000, train_size // 10)
    return torch.randperm(train_size, generator=torch.Generator().manual_seed(VALIDATION_SEED))[:size]


def shifted(logits: torch.Tensor, digit: int, shift: float) -> torch.Tensor:
    """Logits with `shift` added to one class: the same as raising that output unit's bias."""
    out = logits.clone()
    out[:, digit] += shift
    return out


def choose_bias_shift(validation_logits: torch.Tensor, validation_labels: torch.Tensor, digit: int) -> float:
    """The shift in BIAS_GRID that maximises overall accuracy on the validation split (smallest on ties)."""
    scores = torch.tensor([accuracy(shifted(validation_logits, digit, float(s)), validation_labels)
                           for s in BIAS_GRID])
    return float(BIAS_GRID[int(scores.argmax())])


def missing_digit_report(student: nn.Module, twin: nn.Module, dataset: Dataset, digit: int) -> MissingDigitReport:
    """Both models get their own bias shift, each chosen on the same validation split: a fair
    comparison, since the twin too might name the digit once nudged."""
    validation = validation_indices(dataset.train_size)
    val_x, val_y = dataset.train_x[validation], dataset.train_y[validation]
    shift = choose_bias_shift(predict_logits(student, val_x), val_y, digit)
    twin_shift = choose_bias_shift(predict_logits(twin, val_x), val_y, digit)
    test_logits = predict_logits(student, dataset.test_x)
    of_digit = dataset.test_y == digit
    labels = dataset.test_y[of_digit]
    twin_logits = predict_logits(twin, dataset.test_x[of_digit])
    return MissingDigitReport(
        omitted_class=digit,
        omitted_class_accuracy=accuracy(test_logits[of_digit], labels),
        omitted_class_accuracy_adjusted=accuracy(shifted(test_logits[of_digit], digit, shift), labels),
        scratch_omitted_class_accuracy=accuracy(twin_logits, labels),
        scratch_bias_shift=twin_shift,
        scratch_omitted_class_accuracy_adjusted=accuracy(shifted(twin_logits, digit, twin_shift), labels),
        bias_shift=shift,
        overall_accuracy_adjusted=accuracy(shifted(test_logits, digit, shift), dataset.test_y),
        test_images_of_class=int(of_digit.sum()),
        validation_size=len(validation),
    )
