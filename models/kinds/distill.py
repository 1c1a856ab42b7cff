"""A student distilled beside its scratch twin (and, with controls, two control twins):
models/experiments/distill.py."""
from __future__ import annotations

from models.base.configs import DistillConfig
from models.base.results import DistillResult
from models.core.pace import images, students_s
from models.kinds import Kind


def cost(config: DistillConfig) -> float:
    return students_s(config.student, 4 if config.controls else 2, config.epochs, images(config.train_size))


KIND = Kind("distill", DistillConfig, DistillResult, "models.experiments.distill", cost)
