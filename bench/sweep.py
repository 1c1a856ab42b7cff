"""Sweep speed at the issue's fixed size, beside five tutorial-style distillation epochs in the same run.

    DISTILL_DATA=../shared/data python -m bench.sweep [--skip-baseline]

Ours: `python -m models sweep --students mlp-10,mlp-30,mlp-300 --temperatures 1,2,4,8,20 --seeds 2
--train-size 5000 --epochs 10` as a user runs it (6 cells, each training its 5 temperatures beside
one shared scratch twin, a worker process per core, longest cells first). Baseline, same run: five
epochs of bench/baselines.py's tutorial distillation (DataLoader with per-item transforms, the
teacher run on every batch). Also one cell of each student timed alone in this process on one
thread, which is where the sweep's time goes. Prints one JSON object; compare the ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

COMMAND = ["sweep", "--students", "mlp-10,mlp-30,mlp-300", "--temperatures", "1,2,4,8,20", "--seeds", "2",
           "--train-size", "5000", "--epochs", "10", "--json"]


def cli_sweep() -> dict:
    env = {**os.environ, "DISTILL_STATE": tempfile.mkdtemp(prefix="bench-sweep-")}  # not the lab's store
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "models", *COMMAND], capture_output=True, text=True, env=env, check=True)
    return {"sweep_seconds": json.loads(out.stdout)["seconds"], "command_wall_seconds": round(time.perf_counter() - started, 2)}


def one_cell_each() -> dict:
    """Each student's cell alone on one thread (the sweep runs two seeds of each, two at a time)."""
    import torch

    from models.base.configs import SweepCell
    from models.core.checkpoints import teacher_logits
    from models.core.data import default_dataset
    from models.experiments.sweep import run_cell
    torch.set_num_threads(1)
    dataset = default_dataset()
    logits = teacher_logits("pretrained", dataset)
    seconds = {}
    for student in ("mlp-10", "mlp-30", "mlp-300"):
        started = time.perf_counter()
        run_cell(SweepCell(student, (1, 2, 4, 8, 20), 0, 5000, 10), dataset, logits)
        seconds[student] = round(time.perf_counter() - started, 2)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    out = {"command": "python -m models " + " ".join(COMMAND), **cli_sweep(), "one_cell_one_thread_seconds": one_cell_each()}
    out["cells_cpu_seconds"] = round(2 * sum(out["one_cell_one_thread_seconds"].values()), 2)
    if not args.skip_baseline:
        from bench import baselines
        from models.core.checkpoints import load_teacher
        from models.core.data import data_root
        teacher = load_teacher("pretrained")
        out["baseline_five_tutorial_epochs_seconds"] = round(sum(
            baselines.tutorial_distillation_epoch(teacher, str(data_root())) for _ in range(5)), 2)
        out["sweep_over_baseline"] = round(out["sweep_seconds"] / out["baseline_five_tutorial_epochs_seconds"], 3)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
