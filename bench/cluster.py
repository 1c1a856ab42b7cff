"""The Dask cluster's overhead: one sweep (3 students × 5 temperatures × 2 seeds, the Sweeps page's
default size) on this machine's process pool, and on a local Dask cluster with the same number of
worker processes, in the same run. Prints one JSON object.

    DISTILL_DATA=../shared/data python -m bench.cluster
"""
from __future__ import annotations

import json
import os
import tempfile
import time
import uuid

from models.base.configs import SweepConfig
from models.core.data import default_dataset
from models.experiments.sweep import sweep_rows
from models.service.lifecycle import run_and_wait
from models.service.store import RunStore
from models.core.checkpoints import teacher_logits
from models.core.device import cores


def main() -> None:
    import dask
    from distributed import LocalCluster

    os.environ.setdefault("DISTILL_STATE", tempfile.mkdtemp(prefix="bench-cluster-"))  # not the lab's store
    dataset = default_dataset()
    config = SweepConfig(seeds=2)
    teacher_logits(config.teacher, dataset)  # warm the disk cache, as bench.sweep does
    cells = config.cells()
    workers = min(cores(), len(cells))

    started = time.perf_counter()
    local_runs = run_and_wait(RunStore(), cells, "bench.cluster", f"sweep-{uuid.uuid4().hex[:8]}", workers=workers)
    local_rows = sweep_rows(run.result for run in local_runs if run.status == "done")
    local_s = time.perf_counter() - started

    env = {"PYTHONPATH": os.getcwd(), "DISTILL_TORCH_THREADS": str(max(1, cores() // workers))}
    env |= {key: os.environ[key] for key in ("DISTILL_DATA", "DISTILL_STATE") if key in os.environ}
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          env=env) as cluster:
            started = time.perf_counter()
            runs = run_and_wait(RunStore(), cells, "bench.cluster", f"sweep-{uuid.uuid4().hex[:8]}",
                                cluster=cluster.scheduler_address)
            cluster_s = time.perf_counter() - started
    cluster_rows = sweep_rows([run.result for run in runs if run.status == "done"])
    same = [(a["distilled_mean"], a["scratch_mean"]) for a in local_rows] == \
           [(b["distilled_mean"], b["scratch_mean"]) for b in cluster_rows]
    print(json.dumps({
        "dataset": dataset.summary(), "cells": len(cells), "worker_processes": workers,
        "local_pool_seconds": round(local_s, 2), "dask_cluster_seconds": round(cluster_s, 2),
        "cluster_overhead_ratio": round(cluster_s / local_s, 2), "runs_done": sum(r.status == "done" for r in runs),
        "identical_results": same}, indent=2))


if __name__ == "__main__":
    main()
