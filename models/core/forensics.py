"""Was this model copied from mine? A copy inherits its teacher's mistakes.

On the test digits the teacher gets wrong, count how often a suspect model gives the *same* wrong
digit. A model trained independently on true labels makes its own, different mistakes (it agrees
with the teacher's wrong digit only where a digit is ambiguous to everyone); a model trained on
the teacher's answers repeats them.
"""
from __future__ import annotations

import torch


def teacher_mistakes_shared(suspect: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor) -> float:
    """Of the images the teacher labels wrongly, the share on which the suspect names the same wrong
    digit. Predictions are (N,) digit tensors; 0.0 when the teacher makes no mistake."""
    wrong = teacher != labels
    if not wrong.any():
        return 0.0
    return (suspect[wrong] == teacher[wrong]).float().mean().item()


def shared_mistake_counts(suspect: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor) -> tuple[int, int]:
    """(mistakes the suspect repeats digit for digit, mistakes the teacher makes)."""
    wrong = teacher != labels
    return int((suspect[wrong] == teacher[wrong]).sum()), int(wrong.sum())


def share_interval(shared: int, mistakes: int) -> tuple[float, float]:
    """95 % Wilson interval for the share: a teacher makes few mistakes (74 on MNIST's test set for
    the pretrained one), so a share is a small-sample estimate and should say how small."""
    from scipy.stats import binomtest
    if mistakes == 0:
        return 0.0, 1.0
    interval = binomtest(shared, mistakes).proportion_ci(confidence_level=0.95, method="wilson")
    return interval.low, interval.high
