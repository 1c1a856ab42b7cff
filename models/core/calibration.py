"""How sure is it? Whether a model's stated confidence matches how often it is right.

A model is *calibrated* when, of all the answers it gives with about 90 % confidence, about 90 %
are right. The reliability diagram bins answers by confidence and compares each bin's mean
confidence with its accuracy; the expected calibration error (ECE) is the gap averaged over bins,
weighted by how many answers fall in each.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

BINS = 10


@dataclass(frozen=True)
class Calibration:
    bins: list[dict]  # per non-empty bin: low, high, confidence (mean), accuracy, count
    ece: float  # fraction in [0, 1]
    nll: float  # mean negative log-likelihood of the true label, in nats
    accuracy: float


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int = BINS) -> float:
    """How far stated confidence is from actual accuracy, averaged over confidence bins (0 = honest)."""
    return _binned(probs, labels, bins)[1]


def _binned(probs: torch.Tensor, labels: torch.Tensor, bins: int) -> tuple[list[dict], float]:
    confidence, predicted = probs.max(1)
    correct = (predicted == labels).float()
    edges = torch.linspace(0, 1, bins + 1)
    rows, gap = [], 0.0
    for low, high in zip(edges[:-1].tolist(), edges[1:].tolist()):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            row = {"low": low, "high": high, "confidence": confidence[inside].mean().item(),
                   "accuracy": correct[inside].mean().item(), "count": int(inside.sum())}
            rows.append(row)
            gap += row["count"] / len(labels) * abs(row["confidence"] - row["accuracy"])
    return rows, gap


def calibration(logits: torch.Tensor, labels: torch.Tensor, bins: int = BINS) -> Calibration:
    """The reliability diagram's bins, ECE, NLL and accuracy of (N, 10) logits against labels."""
    probs = logits.softmax(1)
    rows, ece = _binned(probs, labels, bins)
    nll = torch.nn.functional.cross_entropy(logits, labels).item()
    return Calibration(rows, ece, nll, (probs.argmax(1) == labels).float().mean().item())
