"""What the teacher knows, read off its soft targets: which digits it finds alike, and where."""
from __future__ import annotations

import torch

from models.core.loss import soft_targets


def similarity_matrix(logits: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """(10, 10): row c is the teacher's average soft target over the images labelled c."""
    probs = soft_targets(logits, temperature)
    return torch.stack([probs[labels == c].mean(0) for c in range(probs.shape[1])])


def most_alike(logits: torch.Tensor, labels: torch.Tensor, true_digit: int, looks_like: int,
               temperature: float = 1.0, count: int = 8) -> list[dict]:
    """Images labelled `true_digit` to which the teacher gives the most probability of `looks_like`.

    E.g. which 4s look like 9s. Returns [{index, probabilities (10 floats), prediction}], most alike first.
    """
    candidates = (labels == true_digit).nonzero().flatten()
    probs = soft_targets(logits[candidates], temperature)
    order = probs[:, looks_like].argsort(descending=True)[:count]
    return [{"index": int(candidates[i]), "probabilities": probs[i].tolist(),
             "prediction": int(logits[candidates[i]].argmax())} for i in order]


def most_confused_pairs(matrix: torch.Tensor, count: int = 5) -> list[tuple[int, int, float]]:
    """Off-diagonal (true digit, looks-like digit, average probability), largest first."""
    off = matrix.clone()
    off.fill_diagonal_(0)
    values, flat = off.flatten().topk(count)
    size = matrix.shape[1]
    return [(int(i // size), int(i % size), float(v)) for v, i in zip(values, flat)]
