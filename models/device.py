"""Where tensors go: CUDA or Apple MPS when present, the CPU otherwise."""
from __future__ import annotations

import os

import torch


def best_device() -> torch.device:
    forced = os.environ.get("DISTILL_DEVICE")  # e.g. "cpu" to compare against a GPU run
    if forced:
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
