"""Was this model copied from mine? A copy inherits its teacher's mistakes.

On the test digits the teacher gets wrong, count how often a suspect model gives the *same* wrong
digit. A model trained independently on true labels makes its own, different mistakes (it agrees
with the teacher's wrong digit only where a digit is ambiguous to everyone); a model trained on
the teacher's answers repeats them.
"""
from __future__ import annotations

from dataclasses import dataclass

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


# -- paired tests ------------------------------------------------------------------------------
# Two suspects scored on the same digits are a paired question: what matters is where they differ.

def mcnemar_p(first: torch.Tensor, second: torch.Tensor) -> float:
    """Exact two-sided McNemar test of two (N,) boolean outcomes on the same items: a binomial test of
    the items only `first` has against those only `second` has (1.0 when there are none)."""
    from scipy.stats import binomtest
    only_first, only_second = int((first & ~second).sum()), int((second & ~first).sum())
    if only_first + only_second == 0:
        return 1.0
    return float(binomtest(only_first, only_first + only_second, 0.5).pvalue)


def mistakes_repeated(suspect: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """For each teacher mistake (in test order), whether the suspect names the same wrong digit."""
    wrong = teacher != labels
    return suspect[wrong] == teacher[wrong]


def second_choices(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(top answer, runner-up) of each row of (N, 10) logits."""
    top2 = logits.topk(2, dim=1).indices
    return top2[:, 0], top2[:, 1]


def second_choice_shared(suspect_logits: torch.Tensor, teacher_logits: torch.Tensor) -> float:
    """On the digits where the suspect and the teacher agree on the top answer, the share on which
    they also agree on the runner-up. Thousands of digits instead of a few dozen mistakes: a copy of
    the teacher's probabilities inherits its second thoughts, an independent model mostly does not
    (chance is 1 in 9)."""
    suspect_top, suspect_second = second_choices(suspect_logits)
    teacher_top, teacher_second = second_choices(teacher_logits)
    agree = suspect_top == teacher_top
    return (suspect_second[agree] == teacher_second[agree]).float().mean().item() if agree.any() else 0.0


@dataclass(frozen=True)
class PairedForensics:
    """A suspect against a control on the same test digits: both tests, each paired."""

    suspect_mistakes_shared: float
    control_mistakes_shared: float
    mistakes_mcnemar_p: float  # on the teacher's mistakes
    suspect_second_choice_shared: float
    control_second_choice_shared: float
    second_choice_mcnemar_p: float  # on the digits where both agree with the teacher's top answer
    second_choice_gap_ci: tuple[float, float]  # bootstrap 95 % interval of suspect − control there
    paired_digits: int


def compare_to_control(suspect_logits: torch.Tensor, control_logits: torch.Tensor, teacher_logits: torch.Tensor,
                       labels: torch.Tensor, resamples: int = 2000, seed: int = 0) -> PairedForensics:
    teacher_top, teacher_second = second_choices(teacher_logits)
    suspect_top, suspect_second = second_choices(suspect_logits)
    control_top, control_second = second_choices(control_logits)
    suspect_repeats = mistakes_repeated(suspect_top, teacher_top, labels)
    control_repeats = mistakes_repeated(control_top, teacher_top, labels)
    both_agree = (suspect_top == teacher_top) & (control_top == teacher_top)  # the same digits for both
    suspect_hits = (suspect_second == teacher_second)[both_agree]
    control_hits = (control_second == teacher_second)[both_agree]
    gaps = suspect_hits.float() - control_hits.float()
    generator = torch.Generator().manual_seed(seed)
    draws = torch.randint(0, len(gaps), (resamples, len(gaps)), generator=generator)
    means = gaps[draws].mean(1)
    return PairedForensics(
        suspect_mistakes_shared=suspect_repeats.float().mean().item() if len(suspect_repeats) else 0.0,
        control_mistakes_shared=control_repeats.float().mean().item() if len(control_repeats) else 0.0,
        mistakes_mcnemar_p=mcnemar_p(suspect_repeats, control_repeats),
        suspect_second_choice_shared=second_choice_shared(suspect_logits, teacher_logits),
        control_second_choice_shared=second_choice_shared(control_logits, teacher_logits),
        second_choice_mcnemar_p=mcnemar_p(suspect_hits, control_hits),
        second_choice_gap_ci=(means.quantile(0.025).item(), means.quantile(0.975).item()),
        paired_digits=int(both_agree.sum()))
