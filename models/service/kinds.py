"""The one registry of kinds of run: a config type, a result type and the experiment that runs it.

A new kind of run is one experiment module (with `run(config, dataset, on_progress) -> Outcome`)
plus one line in KINDS. The store reads a row's config and result back through this registry, the
runner finds the experiment here, and nothing else names kinds. Experiments are imported only when
a run starts, so the pages and the CLI's refusals stay torch-free.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from models.base.configs import ChatCopyConfig, DistillConfig, ExtractConfig, HintonConfig, SweepCell, TeacherConfig
from models.base.errors import ConfigError
from models.base.results import (
    ChatCopyResult,
    DistillResult,
    ExtractionResult,
    HintonResult,
    JsonRecord,
    Outcome,
    SweepCellResult,
    TeacherResult,
)

# (folder beside the store, run id, config, result, weights as bytes) -> (result, bytes to store)
Keep = Callable[[Path, int, object, JsonRecord, bytes | None], tuple[JsonRecord, bytes | None]]


@dataclass(frozen=True)
class Kind:
    name: str
    config_type: type
    result_type: type[JsonRecord]
    experiment: str  # the module whose run(config, dataset, on_progress) trains it
    keep: Keep | None = None  # what to do with a finished run's weights besides storing them

    def run(self, config, dataset, on_progress) -> Outcome:
        return importlib.import_module(self.experiment).run(config, dataset, on_progress)


def _teacher_checkpoint(folder: Path, run_id: int, config: TeacherConfig, result: TeacherResult,
                        weights: bytes | None) -> tuple[TeacherResult, None]:
    """A trained teacher becomes a checkpoint file beside the store, which later runs name by path.
    The bytes are torch.save of its state dict, which is exactly what a checkpoint holds."""
    path = folder / "teachers" / f"teacher-run{run_id}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(weights or b"")
    partial.replace(path)
    sidecar = {**result.sidecar(), "seed": config.seed, "trained_by": f"app run {run_id}"}
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")
    return dataclasses.replace(result, checkpoint=str(path.resolve())), None


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("teacher", TeacherConfig, TeacherResult, "models.experiments.teacher", keep=_teacher_checkpoint),
    Kind("distill", DistillConfig, DistillResult, "models.experiments.distill"),
    Kind("sweep_cell", SweepCell, SweepCellResult, "models.experiments.sweep"),
    Kind("hinton", HintonConfig, HintonResult, "models.experiments.hinton"),
    Kind("extract", ExtractConfig, ExtractionResult, "models.experiments.extraction"),
    Kind("chat_copy", ChatCopyConfig, ChatCopyResult, "models.experiments.chat_copy"),
)}


def kind_of(config) -> str:
    for kind in KINDS.values():
        if type(config) is kind.config_type:
            return kind.name
    raise TypeError(f"no kind of run for {type(config).__name__}")


def config_of(kind: str, values: dict):
    """A stored config back as its typed dataclass. Rows written by older versions may miss fields
    (their defaults apply), carry fields since dropped (ignored) or hold values today's checks
    refuse (kept as stored, unchecked, so an old leaderboard still opens)."""
    entry = KINDS.get(kind)
    if entry is None:
        return dict(values)  # a kind this version does not know: shown as stored
    fields = {field.name: field for field in dataclasses.fields(entry.config_type)}
    known = {key: value for key, value in values.items() if key in fields}
    try:
        return entry.config_type(**known)
    except (ConfigError, TypeError, ValueError):
        config = object.__new__(entry.config_type)
        for name, field in fields.items():
            default = field.default if field.default is not dataclasses.MISSING else None
            object.__setattr__(config, name, known.get(name, default))
        return config


def result_of(kind: str, data: dict) -> JsonRecord | None:
    entry = KINDS.get(kind)
    return entry.result_type.from_json(data) if entry else None
