"""The distillation loss of Hinton, Vinyals & Dean (2015), and its soft-target term: the one
function every model that learns from a distribution uses (a distilled student, the control twins,
a copier of the digit API, a chat copier given probabilities)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_targets(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / T): (B, 10) probabilities. Higher T spreads mass onto the runner-up classes."""
    return F.softmax(logits / temperature, dim=-1)


def log_probs_at(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """log softmax(logits / T) over the last dimension."""
    return F.log_softmax(logits / temperature, dim=-1)


def soft_target_term(student_log_probs: torch.Tensor, target: torch.Tensor, temperature: float = 1.0,
                     weight: float = 1.0, log_target: bool = False) -> torch.Tensor:
    """weight · T² · KL(target ‖ student), the KL per example (`batchmean`: the summed KL over the
    batch size, the true KL per example, not the `mean` over every entry).

    student_log_probs: (B, C) the student's log-probabilities at T (log_probs_at(logits, T)), or
    any rows of log-probabilities; target: (B, C) probabilities, or log-probabilities with
    log_target. The soft term's gradients shrink as 1/T², so T² keeps it comparable across T and
    beside a hard-label term. KL and soft cross-entropy differ by the target's entropy, a constant,
    so they teach the same gradients."""
    kl = F.kl_div(student_log_probs, target, reduction="batchmean", log_target=log_target)
    return weight * temperature**2 * kl


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      labels: torch.Tensor, temperature: float, alpha: float) -> torch.Tensor:
    """alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) * CE(student, labels)."""
    hard = F.cross_entropy(student_logits, labels)
    if alpha == 0.0:
        return hard
    soft = soft_target_term(log_probs_at(student_logits, temperature), log_probs_at(teacher_logits, temperature),
                            temperature, alpha, log_target=True)
    return soft + (1.0 - alpha) * hard


def feature_loss(projected: torch.Tensor, teacher: torch.Tensor, kind: str) -> torch.Tensor:
    """How far projected student features (B, D) are from the teacher's (B, D), zero when equal
    (models/core/features.py). "hint" (FitNets): mean squared error per feature; "cosine": 1 − the
    cosine similarity of each pair, averaged (only the direction counts); "attention": the squared
    distance between unit-length attention maps, summed over positions and averaged over the batch."""
    if kind == "hint":
        return F.mse_loss(projected, teacher)
    if kind == "cosine":
        return (1 - F.cosine_similarity(projected, teacher, dim=1)).mean()
    if kind == "attention":
        return (projected - teacher).pow(2).sum(1).mean()
    raise ValueError(f"unknown feature loss {kind!r}")


def feature_distillation_loss(student_logits: torch.Tensor, projected: torch.Tensor, teacher_logits: torch.Tensor,
                              teacher_features: torch.Tensor, labels: torch.Tensor, temperature: float,
                              alpha: float, beta: float, kind: str) -> torch.Tensor:
    """Hinton's loss (distillation_loss) + β · the feature term. With α = 0 the student learns from
    the labels and the teacher's insides only; with β = 0 this is Hinton's loss."""
    return (distillation_loss(student_logits, teacher_logits, labels, temperature, alpha)
            + beta * feature_loss(projected, teacher_features, kind))
