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
    """This process's cores: the machine's, or its share of them ($DISTILL_CORES: front.py gives each
    of its servers one share, for that server's workers and their torch threads)."""
    try:
        share = int(os.environ.get("DISTILL_CORES", "0"))
    except ValueError:
        share = 0
    return min(share, os.cpu_count() or 1) if share > 0 else os.cpu_count() or 1


_THREAD_CAP: list[int] = []  # set in room workers: see cap_threads


def cap_threads(most: int) -> None:
    """At most `most` torch threads per job in this process, however few jobs run.

    A room's workers run at a lower priority than the web server and the visitors' browsers. A lone
    job that took both cores ran its two threads in lock-step, and whenever the busier core's thread
    was pre-empted by the higher-priority work the other one waited at every step's barrier: on two
    cores with one busy process beside it, 600 training steps had not finished after 60 s, against
    1.1 s on one thread under the same load (python -m bench.lone_job). One thread per job never
    waits on another; on a quiet machine it costs a lone job 1.4x (0.78 s on two threads)."""
    _THREAD_CAP[:] = [most]
    if torch.get_num_threads() > most:
        torch.set_num_threads(most)


def set_threads_for(jobs_running: int) -> None:
    """Give this job its share of the cores: all of them when it runs alone (up to the cap)."""
    threads = max(1, cores() // max(1, jobs_running))
    if _THREAD_CAP:
        threads = min(threads, _THREAD_CAP[0])
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
