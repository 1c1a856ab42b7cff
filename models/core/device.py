"""Where tensors go (CUDA or Apple MPS when present, the CPU otherwise), and how many CPU threads a
job takes."""
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


def cores() -> int:
    return os.cpu_count() or 1


def set_threads_for(jobs_running: int) -> None:
    """Give this worker its share of the cores: all of them when it runs alone."""
    threads = max(1, cores() // max(1, jobs_running))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
