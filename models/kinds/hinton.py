"""The paper's MNIST table (models/experiments/hinton.py)."""
from __future__ import annotations

from models.base.configs import FULL_BUDGET_EPOCHS, PAPER_TEACHER, HintonConfig
from models.base.results import HintonResult
from models.core.pace import FULL_TRAIN, students_s
from models.kinds import Kind


def cost(config: HintonConfig) -> float:
    seconds = students_s("mlp-800", 2, config.epochs, FULL_TRAIN)
    if config.teacher == PAPER_TEACHER:
        seconds += students_s("paper-teacher", 1, config.epochs, FULL_TRAIN)
    return seconds


def needs_gpu(config: HintonConfig) -> bool:
    """The paper's own table at full budget asks for a GPU worker; everything else runs anywhere."""
    return config.teacher == PAPER_TEACHER and config.epochs >= FULL_BUDGET_EPOCHS


KIND = Kind("hinton", HintonConfig, HintonResult, "models.experiments.hinton", cost, needs_gpu)
