"""A teacher CNN trained on the training set (models/experiments/teacher.py)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from models.base.configs import TeacherConfig
from models.base.results import TeacherResult
from models.core.pace import TEST_IMAGES, eval_s, images, train_s
from models.kinds import Kind


def cost(config: TeacherConfig) -> float:
    return config.epochs * (train_s("teacher", images(config.train_size)) + eval_s("teacher", TEST_IMAGES))


def checkpoint(folder: Path, run_id: int, config: TeacherConfig, result: TeacherResult,
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


KIND = Kind("teacher", TeacherConfig, TeacherResult, "models.experiments.teacher", cost, keep=checkpoint)
