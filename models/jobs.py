"""A bounded pool of worker processes that run configs and write their results to the store.

Why processes: in Streamlit a widget click aborts the page's script, closing a tab does not stop a
loop, and torch's thread pool and seeds are process-wide. So training never runs in a page. A page
submits a frozen config, polls the store for progress, and may ask to cancel; each worker runs
one job at a time with its own torch thread count and seed. The CLI runs the same `run_job`
in its own process, so a run has one lifecycle wherever it runs.
"""
from __future__ import annotations

import dataclasses
import time
from concurrent.futures import Future
from typing import Callable

from models.config import (
    ConfigError,
    DistillConfig,
    ExtractConfig,
    HintonConfig,
    SweepCell,
    TeacherConfig,
    TeacherError,
)
from models.data import default_dataset
from models.paths import state_dir
from models.results import JsonRecord, Progress
from models.store import RunStore
from models.workers import worker_pool

PROGRESS_EVERY_S = 0.25  # step records land at most this often; epoch ends always land


class JobCancelled(Exception):
    pass


def _run_teacher(run_id: int, config: TeacherConfig, dataset, on_progress) -> tuple[JsonRecord, None]:
    from models.teacher import save_teacher
    from models.training import train_teacher
    model, result = train_teacher(config, dataset, on_progress)
    path = state_dir() / "teachers" / f"teacher-run{run_id}.pt"
    save_teacher(model, path, {**result.sidecar(), "seed": config.seed, "trained_by": f"app run {run_id}"})
    return dataclasses.replace(result, checkpoint=str(path.resolve())), None


def _run_distill(run_id: int, config: DistillConfig, dataset, on_progress) -> tuple[JsonRecord, dict]:
    from models.distill import distill
    return distill(config, dataset, on_progress=on_progress)


def _run_sweep_cell(run_id: int, cell: SweepCell, dataset, on_progress) -> tuple[JsonRecord, None]:
    from models.sweep import run_cell
    return run_cell(cell, dataset, on_progress=on_progress), None


def _run_hinton(run_id: int, config: HintonConfig, dataset, on_progress) -> tuple[JsonRecord, None]:
    from models.hinton import run_hinton
    return run_hinton(config, dataset, on_progress), None


def _run_extraction(run_id: int, config: ExtractConfig, dataset, on_progress) -> tuple[JsonRecord, None]:
    from models.extraction import run_extraction
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
    """Run one stored job here (a worker, or the CLI's own process). Returns the final status;
    never raises for a job's own failure: the reason goes into the run's row."""
    store = RunStore(store_path)
    if store.cancel_requested(run_id):
        store.set_status(run_id, "cancelled")
        return "cancelled"
    store.claim(run_id)
    config_class, runner = JOB_KINDS[kind]
    last_write = 0.0

    def on_progress(record: Progress) -> None:
        nonlocal last_write
        if record.epoch_end or time.monotonic() - last_write > PROGRESS_EVERY_S:
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


class JobPool:
    """Submit configs; results land in the store. One per server process."""

    def __init__(self, store: RunStore, workers: int | None = None):
        self.store = store
        self.store.mark_orphans()
        self._executor = worker_pool(workers)
        self.workers = self._executor._max_workers

    def submit(self, config, name: str = "", group: str = "") -> int:
        kind = kind_of(config)
        run_id = self.store.create(kind, dataclasses.asdict(config), name, group)
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
