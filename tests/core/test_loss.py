import math

import pytest
import torch
import torch.nn.functional as F

from models.experiments.distill import student_and_twin
from models.core.loss import distillation_loss, soft_targets


def _hand_loss(student, teacher, label, T, alpha):
    """The formula written out for one example with plain Python math."""
    def softmax(z):
        exps = [math.exp(v / T) for v in z]
        return [e / sum(exps) for e in exps]
    p, q = softmax(teacher), softmax(student)
    kl = sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))
    ce = -math.log(math.exp(student[label]) / sum(math.exp(v) for v in student))
    return alpha * T * T * kl + (1 - alpha) * ce


def test_loss_matches_hand_computation():
    student = [[1.0, -0.5, 2.0], [0.1, 0.2, 0.3]]
    teacher = [[3.0, 0.0, -1.0], [-2.0, 1.0, 0.5]]
    labels = [0, 2]
    for T, alpha in [(1.0, 0.5), (4.0, 0.9), (20.0, 1.0)]:
        got = distillation_loss(torch.tensor(student), torch.tensor(teacher), torch.tensor(labels), T, alpha)
        want = sum(_hand_loss(s, t, y, T, alpha) for s, t, y in zip(student, teacher, labels)) / 2  # batchmean
        assert math.isclose(got.item(), want, rel_tol=1e-5), (T, alpha)


def test_alpha_zero_is_plain_cross_entropy():
    torch.manual_seed(0)
    student, teacher = torch.randn(8, 10), torch.randn(8, 10)
    labels = torch.randint(0, 10, (8,))
    got = distillation_loss(student, teacher, labels, temperature=5.0, alpha=0.0)
    assert torch.allclose(got, F.cross_entropy(student, labels))


def test_soft_term_gradient_reaches_the_student():
    """With alpha = 1 only the teacher term is left; it must still move every student weight."""
    student, _ = student_and_twin("mlp-10", seed=0)
    images = torch.randn(16, 1, 28, 28)
    teacher_logits = torch.randn(16, 10) * 3
    labels = torch.zeros(16, dtype=torch.long)
    loss = distillation_loss(student(images), teacher_logits, labels, temperature=4.0, alpha=1.0)
    loss.backward()
    for name, parameter in student.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    # And the labels play no part at alpha = 1.
    other = distillation_loss(student(images), teacher_logits, labels + 3, temperature=4.0, alpha=1.0)
    assert torch.isclose(loss, other)


def test_higher_temperature_flattens_soft_targets():
    logits = torch.tensor([5.0, 1.0, 0.0])
    cold, warm = soft_targets(logits, 1.0), soft_targets(logits, 10.0)
    assert warm.max() < cold.max() and warm.min() > cold.min()
    assert torch.isclose(warm.sum(), torch.tensor(1.0))


def test_twin_starts_from_identical_weights_but_separate_parameters():
    student, twin = student_and_twin("mlp-100", seed=3)
    for (name, a), (_, b) in zip(student.state_dict().items(), twin.state_dict().items()):
        assert torch.equal(a, b), name
    next(student.parameters()).data.add_(1.0)
    assert not torch.equal(next(student.parameters()), next(twin.parameters()))


def test_the_pages_numpy_soft_targets_match_the_engines():
    import torch

    from models.core.loss import soft_targets
    from models.core.softmax import soft_targets_array
    logits = torch.tensor([3.0, -1.0, 0.5, 8.0, 2.0, 0.0, -4.0, 1.0, 7.5, 0.1])
    for temperature in (0.5, 1.0, 4.0, 20.0):
        assert soft_targets_array(logits.numpy(), temperature) == pytest.approx(
            soft_targets(logits, temperature).numpy(), abs=1e-6)


def _hand_soft_term(student, target, T):
    """T² · KL(target ‖ softmax(student / T)) for one example, in plain Python."""
    exps = [math.exp(v / T) for v in student]
    q = [e / sum(exps) for e in exps]
    return T * T * sum(p * math.log(p / qi) for p, qi in zip(target, q) if p > 0)


STUDENT = [[1.0, -0.5, 2.0], [0.1, 0.2, 0.3]]
TARGETS = [[0.7, 0.2, 0.1], [0.05, 0.15, 0.8]]


def test_the_control_twins_loss_is_hintons_with_their_targets_t_squared_included():
    """Catches the controls' soft term losing its T² (their gain over the student would then be an
    artefact of a smaller soft weight, not of their targets)."""
    from models.experiments.controls import soft_distribution_loss
    for T, alpha in [(1.0, 0.5), (4.0, 0.9)]:
        loss = soft_distribution_loss(T, alpha, "smoothed")
        got = loss(torch.tensor(STUDENT), {"smoothed": torch.tensor(TARGETS)}, torch.tensor([0, 2])).item()
        hard = F.cross_entropy(torch.tensor(STUDENT), torch.tensor([0, 2])).item()
        want = alpha * sum(_hand_soft_term(s, t, T) for s, t in zip(STUDENT, TARGETS)) / 2 + (1 - alpha) * hard
        assert math.isclose(got, want, rel_tol=1e-5), (T, alpha)


def test_the_digit_copiers_loss_is_the_soft_term_t_squared_included():
    """Catches the copier's loss without T² (at T = 4 it would be 16 times too small)."""
    from models.experiments.extraction import soft_cross_entropy
    for T in (1.0, 4.0):
        got = soft_cross_entropy(T)(torch.tensor(STUDENT), torch.tensor(TARGETS), None).item()
        want = sum(_hand_soft_term(s, t, T) for s, t in zip(STUDENT, TARGETS)) / 2
        assert math.isclose(got, want, rel_tol=1e-5), T


def test_the_chat_copiers_loss_on_full_distributions_is_the_soft_term():
    """With the full distribution revealed, the chat copier's loss is the soft term at T = 1."""
    from models.experiments.chat_copy import revealed_loss
    indices = torch.arange(3).expand(2, 3)
    got = revealed_loss(torch.tensor(STUDENT), indices, torch.tensor(TARGETS)).item()
    want = sum(_hand_soft_term(s, t, 1.0) for s, t in zip(STUDENT, TARGETS)) / 2
    assert math.isclose(got, want, rel_tol=1e-5)
