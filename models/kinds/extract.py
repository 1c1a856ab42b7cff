"""A copy of the digit teacher through its answers (models/experiments/extraction.py)."""
from __future__ import annotations

from models.base.configs import ExtractConfig, epochs_for_size
from models.base.results import ExtractionResult
from models.core.pace import TEST_IMAGES, eval_s, students_s
from models.kinds import Kind


def cost(config: ExtractConfig) -> float:
    copies = 2 if config.forensics else 1  # the forensic control is trained like the copy
    seconds = students_s(config.student, copies, epochs_for_size(config.queries), config.queries)
    return seconds + eval_s("teacher", config.queries * config.samples_per_image + TEST_IMAGES)


KIND = Kind("extract", ExtractConfig, ExtractionResult, "models.experiments.extraction", cost)
