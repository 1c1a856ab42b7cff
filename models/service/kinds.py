"""The one registry of kinds of run, collected from their declarations (models/kinds/: name, config,
result, the experiment that runs it, cost, GPU need, keep hook).

A new kind of run is one experiment module, its declaration beside the others in models/kinds, and
one entry below. The store reads a row's config and result back through this registry, the runner
finds the experiment here, the budget its cost and the cluster its GPU need; nothing else branches
on kinds.
"""
from __future__ import annotations

import dataclasses

from models.base.errors import ConfigError
from models.base.results import JsonRecord
from models.kinds import Kind, chat_copy, distill, extract, hinton, sweep, teacher

__all__ = ["KINDS", "Kind", "config_of", "kind_of", "result_of"]

KINDS: dict[str, Kind] = {module.KIND.name: module.KIND for module in (
    teacher, distill, sweep, hinton, extract, chat_copy)}


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
