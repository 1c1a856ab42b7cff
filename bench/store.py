"""The store's room-wide reads with N finished runs, weights apart (schema 5) against weights inside
each run's row (schema 4, the baseline), in the same run.

    python -m bench.store [--runs 300] [--weights-kb 704]

Each run (a finished sweep cell) gets a blob the size of an mlp-100 student and its twin (704 KB). Prints one JSON object:
milliseconds per call of Compare's change check, a waiting page's one-run peek, and the list of every
run, for both layouts, and their ratio.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from models.base.results import SweepCellResult
from models.service.store import RunStore

RESULT = SweepCellResult(student="mlp-100", seed=0, train_size=500, epochs=3, alpha=0.9, scratch=0.9,
                         distilled={"4": 0.92}, seconds=1.0, dataset={"name": "bench"})


def _filled(path: Path, runs: int, blob: bytes, in_rows: bool) -> RunStore:
    store = RunStore(path)
    for _ in range(runs):
        run_id = store.create("sweep_cell", {"seed": 0})
        store.claim(run_id)
        store.finish(run_id, RESULT, blob)
    if in_rows:  # as a schema-4 store kept them
        with sqlite3.connect(path) as db:
            db.execute("UPDATE runs SET weights = (SELECT data FROM weights WHERE run_id = runs.id)")
            db.execute("DELETE FROM weights")
    return store


def _ms_per_call(call, repeats: int) -> float:
    call()  # the page cache warm, as in a room that has been running
    tick = time.perf_counter()
    for _ in range(repeats):
        call()
    return round((time.perf_counter() - tick) / repeats * 1000, 3)


def measure(store: RunStore, runs: int) -> dict:
    return {"change_mark_ms": _ms_per_call(lambda: store.change_mark("sweep_cell"), 20),
            "peek_ms": _ms_per_call(lambda: store.peek(runs // 2), 2000),
            "list_every_run_ms": _ms_per_call(lambda: store.list(kind="sweep_cell"), 5)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--weights-kb", type=int, default=704)
    args = parser.parse_args()
    blob = bytes(range(256)) * (args.weights_kb * 4)
    folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
    apart = measure(_filled(folder / "apart.sqlite", args.runs, blob, in_rows=False), args.runs)
    in_rows = measure(_filled(folder / "in_rows.sqlite", args.runs, blob, in_rows=True), args.runs)
    print(json.dumps({"runs": args.runs, "weights_kb": args.weights_kb, "weights_apart": apart,
                      "baseline_weights_in_rows": in_rows,
                      "speedup": {key: round(in_rows[key] / max(apart[key], 1e-6), 1) for key in apart}}, indent=2))


if __name__ == "__main__":
    main()
