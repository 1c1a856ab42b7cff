"""One cell of a sweep: a student at several temperatures beside one shared scratch twin
(models/experiments/sweep.py)."""
from __future__ import annotations

from models.base.configs import SweepCell
from models.base.results import SweepCellResult
from models.core.pace import images, students_s
from models.kinds import Kind


def networks(config: SweepCell) -> int:
    """Every network the cell trains: one student per temperature (three with controls), and the twin."""
    return len(config.temperatures) * (3 if config.controls else 1) + 1


def cost(config: SweepCell) -> float:
    return students_s(config.student, networks(config), config.epochs, images(config.train_size))


KIND = Kind("sweep_cell", SweepCell, SweepCellResult, "models.experiments.sweep", cost)
