"""Why a lone job ran 4-8x slower than two jobs that overlapped: one job timed alone and in a pair,
on a quiet machine and under a steady background load, at the room workers' priority (nice 10).

    python -m bench.lone_job [--steps 600] [--load 1]

A job here is the default Distil's training step (mlp-100 and its twin, batches of 128) repeated
`--steps` times in its own spawned process, as a room worker runs it. The background load is
`--load` busy processes at normal priority: the web server and the browsers of a room, which
outrank the workers. Each case reports the slowest job's seconds; the baseline is the same job
alone on one thread on the quiet machine, measured in the same run. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time

from models.core.device import cores

NICENESS = 10  # models/service/local.py: WORKER_NICENESS


def _busy(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def _job(threads: int, steps: int, seconds) -> None:
    import torch
    import torch.nn.functional as F

    from models.core.nets import build_student

    os.nice(NICENESS)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    models = [build_student("mlp-100"), build_student("mlp-100")]
    optimisers = [torch.optim.Adam(m.parameters()) for m in models]
    x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
    started = time.perf_counter()
    for _ in range(steps):
        for model, optimiser in zip(models, optimisers):
            loss = F.cross_entropy(model(x), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    seconds.put(time.perf_counter() - started)


def timed(jobs: list[int], steps: int, load: int, cap_s: float) -> float | None:
    """The slowest of `jobs` (one thread count each) run together under `load` busy processes; None
    when one had not finished after cap_s (it is stopped: the stall is the finding)."""
    context = multiprocessing.get_context("spawn")
    stop, seconds = context.Event(), context.Queue()
    burners = [context.Process(target=_busy, args=(stop,)) for _ in range(load)]
    for burner in burners:
        burner.start()
    try:
        workers = [context.Process(target=_job, args=(threads, steps, seconds)) for threads in jobs]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + cap_s
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        if any(worker.is_alive() for worker in workers):
            for worker in workers:
                worker.kill()
            return None
        return round(max(seconds.get() for _ in jobs), 2)
    finally:
        stop.set()
        for burner in burners:
            burner.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600, help="training steps per job")
    parser.add_argument("--load", type=int, default=1, help="busy processes at normal priority")
    parser.add_argument("--cap", type=float, default=120.0, help="seconds after which a case is stopped")
    args = parser.parse_args()
    every = cores()
    baseline = timed([1], args.steps, 0, args.cap)
    plan = {
        "quiet_lone_all_threads": ([every], 0),
        "quiet_pair_one_thread_each": ([1, 1], 0),
        "loaded_lone_all_threads": ([every], args.load),
        "loaded_pair_one_thread_each": ([1, 1], args.load),
        "loaded_lone_one_thread": ([1], args.load),
    }
    cases = {}
    for name, (jobs, load) in plan.items():
        cases[name] = timed(jobs, args.steps, load, args.cap)
        print(f"{name}: {cases[name]} s", file=sys.stderr, flush=True)
    def ratio(a: float | None, b: float | None) -> float | str:
        return f"more than {args.cap / b:.0f}" if a is None else round(a / b, 2)
    print(json.dumps({
        "cores": every, "steps": args.steps, "background_load": args.load, "niceness": NICENESS,
        "cap_s": args.cap, "baseline_quiet_lone_one_thread_s": baseline,
        "seconds": {name: s if s is not None else f"stopped after {args.cap:g}" for name, s in cases.items()},
        "ratio_to_baseline": {name: ratio(s, baseline) for name, s in cases.items()},
        "loaded_lone_all_threads_over_pair": ratio(cases["loaded_lone_all_threads"],
                                                   cases["loaded_pair_one_thread_each"]),
        "loaded_lone_one_thread_over_pair": ratio(cases["loaded_lone_one_thread"],
                                                  cases["loaded_pair_one_thread_each"]),
    }, indent=2))


if __name__ == "__main__":
    main()
