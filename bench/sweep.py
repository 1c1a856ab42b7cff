"""Sweep speed: 3 students × 5 temperatures × 2 seeds at 5,000 transfer examples.

    DISTILL_DATA=../shared/data python -m bench.sweep [--skip-baseline]

Ours: one cell per (student, seed) trains every temperature beside one shared twin, cells in
parallel worker processes. Baseline, same run: the same 30 distillations one by one, each with
its own twin, in this process. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from models.base.configs import DistillConfig, SweepConfig
from models.core.data import default_dataset
from models.experiments.distill import distill
from models.experiments.sweep import sweep_rows
from models.service.lifecycle import run_and_wait
from models.service.store import RunStore
from models.core.checkpoints import teacher_logits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DISTILL_STATE", tempfile.mkdtemp(prefix="bench-sweep-"))  # not the lab's store
    dataset = default_dataset()
    config = SweepConfig(seeds=2)  # the benchmark's fixed size: 3 students × 5 T × 2 seeds
    logits = teacher_logits(config.teacher, dataset)  # warm the disk cache so workers only read it
    started = time.perf_counter()
    runs = run_and_wait(RunStore(), config.cells(), "bench.sweep")  # the job pool, one worker per core
    rows = sweep_rows(run.result for run in runs if run.status == "done")
    ours = round(time.perf_counter() - started, 2)
    out = {"dataset": dataset.summary(), "students": config.students, "temperatures": config.temperatures,
           "seeds": config.seeds, "train_size": config.train_size, "epochs": config.epochs,
           "sweep_seconds": ours, "target": "≤ 90 s", "rows": len(rows)}
    if not args.skip_baseline:
        started = time.perf_counter()
        for cell in config.cells():
            for t in cell.temperatures:
                distill(DistillConfig(student=cell.student, temperature=t, alpha=cell.alpha,
                                      train_size=cell.train_size, epochs=cell.epochs, seed=cell.seed),
                        dataset, logits)
        out["baseline_one_by_one_seconds"] = round(time.perf_counter() - started, 2)
        out["speedup"] = round(out["baseline_one_by_one_seconds"] / ours, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
