"""soft_targets (models/core/loss.py) for one row of logits, in numpy and without torch: what a page
computes on every slider move. The start page needs no torch at all, and a torch call from each of
a room's script threads cost more than the sum itself."""
from __future__ import annotations

import numpy as np


def soft_targets_array(logits, temperature: float) -> np.ndarray:
    """softmax(logits / T) of one row (10,): its probabilities as float64."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    exp = np.exp(scaled - scaled.max())
    return exp / exp.sum()
