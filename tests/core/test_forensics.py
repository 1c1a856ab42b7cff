"""Forensic verdicts as paired questions on the same digits, and the second-choice test."""
import pytest
import torch

from models.core.forensics import compare_to_control, mcnemar_p, second_choice_shared


def test_mcnemar_counts_only_the_discordant_items():
    only_first = torch.tensor([True] * 10 + [False] * 2 + [True] * 50 + [False] * 38)
    only_second = torch.tensor([False] * 10 + [True] * 2 + [True] * 50 + [False] * 38)
    # 10 against 2 discordant: the 50 shared hits and 38 shared misses do not matter.
    assert mcnemar_p(only_first, only_second) == pytest.approx(2 * sum(
        __import__("math").comb(12, k) for k in range(3)) / 2 ** 12)
    assert mcnemar_p(only_first, only_first) == 1.0


def test_second_choice_counts_only_digits_where_the_top_answers_agree():
    teacher = torch.tensor([[5.0, 4, 0, 0], [5, 4, 0, 0], [5, 4, 0, 0], [0, 0, 5, 4]])
    suspect = torch.tensor([[5.0, 4, 0, 0], [5, 0, 4, 0], [0, 5, 4, 0], [0, 0, 5, 4]])
    # rows 0, 1 and 3 agree on the top; of those, rows 0 and 3 share the runner-up
    assert second_choice_shared(suspect, teacher) == pytest.approx(2 / 3)


def test_a_copy_is_told_from_a_control_on_the_same_digits():
    generator = torch.Generator().manual_seed(0)
    teacher = torch.randn(2000, 10, generator=generator)
    labels = teacher.argmax(1)
    labels[:100] = (labels[:100] + 1) % 10  # the teacher's mistakes
    copy = teacher + 0.2 * torch.randn(2000, 10, generator=generator)  # inherits its second thoughts
    control = 6 * torch.nn.functional.one_hot(teacher.argmax(1), 10) + torch.randn(2000, 10, generator=generator)
    report = compare_to_control(copy, control, teacher, labels)
    assert report.suspect_second_choice_shared > 0.7 and report.control_second_choice_shared < 0.2  # chance: 1/9
    assert report.second_choice_mcnemar_p < 1e-10 and report.second_choice_gap_ci[0] > 0.5
    assert report.paired_digits == int(((copy.argmax(1) == teacher.argmax(1)) & (control.argmax(1) == teacher.argmax(1))).sum())
    # This control copies the teacher's top answers exactly, mistakes included: the mistakes test alone
    # would point at it, while the runner-up shows which model learnt the teacher's probabilities.
    assert report.control_mistakes_shared == 1.0 > report.suspect_mistakes_shared
