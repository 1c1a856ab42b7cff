"""What the commands share: printing, the dataset line on stderr, and where their runs are stored."""
from __future__ import annotations

import json
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

RUN_FAILED = 1


class RunFailed(Exception):
    """A run that started and did not finish: exit status 1 with its reason (bad input is refused
    before any run starts, with status 2)."""


def emit(payload: dict, as_json: bool, lines: list[str]) -> None:
    print(json.dumps(payload) if as_json else "\n".join(lines))


def dataset():
    """The dataset, named on stderr (which data it is matters to the numbers; --json stays one object)."""
    from models.core.data import default_dataset
    data = default_dataset()
    print(f"dataset: {data.describe()}", file=sys.stderr)
    return data


@contextmanager
def run_store(args):
    """The lab's store (the runs show on Compare like a page's), or with --no-store a throwaway one:
    the runs go through the same lifecycle either way."""
    from models.service.store import RunStore
    if getattr(args, "no_store", False):
        with tempfile.TemporaryDirectory(prefix="distillation-lab-") as folder:
            yield RunStore(Path(folder) / "lab.sqlite")
    else:
        yield RunStore()


def finished(runs: list) -> list:
    """The runs' results, or RunFailed naming the first that did not finish."""
    for run in runs:
        if run.status != "done":
            raise RunFailed(f"run {run.id} {run.status}: {run.error}".rstrip(": "))
    return [run.result for run in runs]


def run_each(store, configs: list, name: str, group: str = "") -> list:
    """Each config in this process, one after another, through the one run lifecycle; their results.
    (Open the store before the first line is printed: a damaged store is then the only line.)"""
    from models.service.runner import run_here
    return finished([run_here(store, config, name, group) for config in configs])
