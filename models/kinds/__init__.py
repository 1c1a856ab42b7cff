"""Kinds of run, each declared by the module beside its experiment's name here: its name, config and
result types, the experiment that runs it, what it costs, whether it needs a GPU, and what to do with
its weights. models/service/kinds.py only collects them.

The declarations are torch-free and name their experiment by module path, imported only when a run
starts, so the pages and the CLI's refusals never wait for PyTorch to load.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from models.base.results import JsonRecord, Outcome

# (folder beside the store, run id, config, result, weights as bytes) -> (result, bytes to store)
Keep = Callable[[Path, int, object, JsonRecord, bytes | None], tuple[JsonRecord, bytes | None]]


def never(_config) -> bool:
    return False


@dataclass(frozen=True)
class Kind:
    name: str
    config_type: type
    result_type: type[JsonRecord]
    experiment: str  # the module whose run(config, dataset, on_progress) trains it
    cost: Callable[[object], float]  # estimated seconds on one worker thread of this machine, uncorrected
    needs_gpu: Callable[[object], bool] = never  # only a GPU worker of a cluster may take it
    keep: Keep | None = None  # what to do with a finished run's weights besides storing them

    def run(self, config, dataset, on_progress) -> Outcome:
        return importlib.import_module(self.experiment).run(config, dataset, on_progress)
