"""Knowledge or just softness? Two control targets that are as soft as the teacher's but carry none
of its knowledge of which digits look alike.

- Smoothed labels (Müller, Kornblith & Hinton 2019): 1 − ε on the true label, ε/9 on each other
  digit, with ε chosen so the target's entropy equals the teacher's mean soft-target entropy at T.
  Same softness, spread evenly: no resemblances.
  This is label smoothing at T, the teacher-free "virtual teacher" of Yuan et al. (2020).
- Shuffled teacher (Furlanello et al. 2018's permuted dark knowledge): the teacher's own soft
  targets at T, with the probabilities of the nine non-top classes permuted at random per image.
  Same top answer, the same multiset of numbers (so the teacher's confidence per image), but "this
  4 looks a bit like a 9" now points at a random digit.

A student that beats both, by paired intervals over at least three seeds (stats.controls_summary),
gained more than softness alone.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from models.core.loss import log_probs_at, soft_target_term, soft_targets

NUM_CLASSES = 10


def entropy(probs: torch.Tensor) -> torch.Tensor:
    """Shannon entropy in nats of each row of (N, C) probabilities."""
    return -(probs * probs.clamp_min(1e-30).log()).sum(-1)


def smoothing_entropy(epsilon: float, classes: int = NUM_CLASSES) -> float:
    """Entropy of a one-hot label smoothed by ε (1 − ε on the label, ε / (C − 1) elsewhere)."""
    terms = [(1 - epsilon, 1)] + [(epsilon / (classes - 1), classes - 1)]
    return -sum(count * p * math.log(p) for p, count in terms if p > 0)


def matching_smoothing(target_entropy: float, classes: int = NUM_CLASSES) -> float:
    """The ε in [0, (C−1)/C] whose smoothed label has this entropy (bisection; entropy grows with ε there)."""
    low, high = 0.0, (classes - 1) / classes
    target = min(max(target_entropy, 0.0), smoothing_entropy(high, classes))
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if smoothing_entropy(middle, classes) < target else (low, middle)
    return (low + high) / 2


def smoothed_labels(labels: torch.Tensor, epsilon: float, classes: int = NUM_CLASSES) -> torch.Tensor:
    """(N,) labels -> (N, C) smoothed one-hot targets."""
    return F.one_hot(labels, classes).float() * (1 - epsilon - epsilon / (classes - 1)) + epsilon / (classes - 1)


def shuffled_soft_targets(teacher_logits: torch.Tensor, temperature: float, generator: torch.Generator) -> torch.Tensor:
    """The teacher's soft targets at T with each row's non-top probabilities permuted among the
    non-top classes. (N, C) -> (N, C); the top class and value, and each row's multiset, are kept."""
    probs = soft_targets(teacher_logits, temperature)
    rows, classes = probs.shape
    top = probs.argmax(1, keepdim=True)
    others = torch.arange(classes).expand(rows, classes)
    others = others[others != top].view(rows, classes - 1)  # each row's non-top class indices, in order
    shuffle = torch.rand(rows, classes - 1, generator=generator).argsort(1)
    out = probs.clone()
    out.scatter_(1, others, probs.gather(1, others.gather(1, shuffle)))
    return out


def soft_distribution_loss(temperature: float, alpha: float, key: str):
    """Hinton's loss with a given target distribution (already at T) in place of softmax(teacher/T):
    α · T² · KL(target ‖ softmax(student/T)) + (1 − α) · CE(student, label). Reads targets[key]."""
    def loss(student: torch.Tensor, targets: dict, labels: torch.Tensor) -> torch.Tensor:
        hard = F.cross_entropy(student, labels)
        soft = soft_target_term(log_probs_at(student, temperature), targets[key], temperature, alpha)
        return soft + (1 - alpha) * hard
    return loss
