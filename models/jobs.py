"""A bounded pool of worker processes that run configs and write their results to the store.

Why processes: in Streamlit a widget click aborts the page's script, closing a tab does not stop a
loop, and torch's thread pool and seeds are process-wide. So training never runs in a page. A page
submits a frozen config, polls the store for progress, and may ask to cancel; each worker runs
one job at a time with its own torch thread count and seed.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Callable

import torch

from models.config import ConfigError, DistillConfig, TeacherConfig
from models.data import default_dataset
from models.distill import distill
from models.extraction import ExtractConfig, run_extraction
from models.hinton import HintonConfig, run_hinton
from models.paths import state_dir
from models.store import RunStore
from models.sweep import SweepCell, run_cell
from models.teacher import TeacherError, save_teacher
from models.training import train_teacher


class JobCancelled(Exception):
    pass


def _run_teacher(run_id: int, config: TeacherConfig, dataset, on_progress) -> tuple[dict, None]:
    model, metrics = train_teacher(config, dataset, on_progress)
    path = state_dir() / "teachers" / f"teacher-run{run_id}.pt"
    sidecar = {k: metrics[k] for k in ("test_accuracy", "params", "epochs", "seconds", "dataset", "device")}
    save_teacher(model, path, {**sidecar, "seed": config.seed, "trained_by": f"app run {run_id}"})
    return {**metrics, "checkpoint": str(path.resolve())}, None


def _run_distill(run_id: int, config: DistillConfig, dataset, on_progress) -> tuple[dict, dict]:
    result = distill(config, dataset, on_progress=on_progress)
    return result.summary(), result.student_state


def _run_sweep_cell(run_id: int, cell: SweepCell, dataset, on_progress) -> tuple[dict, None]:
    return run_cell(cell, dataset, on_progress=on_progress), None


def _run_hinton(run_id: int, config: HintonConfig, dataset, on_progress) -> tuple[dict, None]:
    return run_hinton(config, dataset, on_progress), None


def _run_extraction(run_id: int, config: ExtractConfig, dataset, on_progress) -> tuple[dict, None]:
    return run_extraction(config, dataset, on_progress), None


# kind -> (config class, runner). New lessons register their kinds here.
JOB_KINDS: dict[str, tuple[type, Callable]] = {
    "teacher": (TeacherConfig, _run_teacher),
    "distill": (DistillConfig, _run_distill),
    "sweep_cell": (SweepCell, _run_sweep_cell),
    "hinton": (HintonConfig, _run_hinton),
    "extract": (ExtractConfig, _run_extraction),
}


def kind_of(config) -> str:
    for kind, (config_class, _) in JOB_KINDS.items():
        if isinstance(config, config_class):
            return kind
    raise TypeError(f"no job kind for {type(config).__name__}")


def run_job(store_path: str, run_id: int, kind: str, values: dict) -> str:
    """Runs in a worker process. Returns the final status; never raises for a job's own failure."""
    store = RunStore(store_path)
    if store.cancel_requested(run_id):
        store.set_status(run_id, "cancelled")
        return "cancelled"
    store.claim(run_id)
    config_class, runner = JOB_KINDS[kind]
    last_write = 0.0

    def on_progress(record: dict) -> None:
        nonlocal last_write
        # Epoch-end records always land; step records at most ~4 times a second.
        if record.get("epoch_end") or time.monotonic() - last_write > 0.25:
            store.set_progress(run_id, record)
            last_write = time.monotonic()
            if store.cancel_requested(run_id):
                raise JobCancelled

    try:
        config = config_class(**values)
        result, weights = runner(run_id, config, default_dataset(), on_progress)
        store.finish(run_id, result, weights)
        return "done"
    except JobCancelled:
        store.set_status(run_id, "cancelled")
        return "cancelled"
    except (ConfigError, TeacherError) as error:
        store.set_status(run_id, "failed", str(error))
        return "failed"
    except Exception as error:  # a worker must outlive a bad job; the page shows the reason
        store.set_status(run_id, "failed", f"{type(error).__name__}: {error}")
        return "failed"


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


class JobPool:
    """Submit configs; results land in the store. One per server process."""

    def __init__(self, store: RunStore, workers: int | None = None):
        cores = os.cpu_count() or 1
        self.workers = max(1, min(workers or cores, cores))
        self.store = store
        self.store.mark_orphans()
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),  # no forked torch threads or locks
            initializer=_init_worker,
            initargs=(max(1, cores // self.workers),),
        )

    def submit(self, config, name: str = "") -> int:
        kind = kind_of(config)
        run_id = self.store.create(kind, dataclasses.asdict(config), name)
        future = self._executor.submit(run_job, str(self.store.path), run_id, kind, dataclasses.asdict(config))
        future.add_done_callback(lambda f: self._on_done(run_id, f))
        return run_id

    def _on_done(self, run_id: int, future: Future) -> None:
        if future.cancelled() or future.exception() is not None:  # the worker process died
            run = self.store.get(run_id)
            if run and not run.finished:
                self.store.set_status(run_id, "interrupted", "the worker process stopped unexpectedly")

    def cancel(self, run_id: int) -> None:
        self.store.request_cancel(run_id)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
