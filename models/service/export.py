"""Take a model home: a stored student as a plain tensor file plus a JSON card describing it.

The .pt holds only tensors (it loads with torch.load(..., weights_only=True)); the card, saved as
the same name with .json, says which architecture to build and how the model was made, so
`python -m models evaluate --teacher FILE` and `predict` can load it.
"""
from __future__ import annotations

import dataclasses
import io

import torch

from models.core.checkpoints import TWIN_PREFIX, load_student
from models.core.nets import count_params
from models.service.store import Run

CARD_KIND = "distilled student"


def student_file(weights: dict) -> bytes:
    """The distilled student's tensors alone (the stored scratch twin stays behind)."""
    buffer = io.BytesIO()
    torch.save({k: v for k, v in weights.items() if not k.startswith(TWIN_PREFIX)}, buffer)
    return buffer.getvalue()


def student_card(run: Run, weights: dict) -> dict:
    result = run.result
    return {
        "kind": CARD_KIND, "student": result.student,
        "params": count_params(load_student(result.student, weights)),
        "test_accuracy": result.distilled_accuracy, "scratch_twin_accuracy": result.scratch_accuracy,
        "teacher_digest": result.teacher_digest, "teacher_accuracy": result.teacher_accuracy,
        "config": dataclasses.asdict(run.config), "dataset": result.dataset, "run": run.id, "name": run.name,
        "load_with": "models.core.checkpoints.load_student(card['student'], torch.load(PT, weights_only=True))",
    }


def load_model(spec: str) -> torch.nn.Module:
    """'pretrained', a teacher checkpoint, or a downloaded student (a .pt whose .json card says so).
    Raises TeacherError with one line when the file is missing or unusable."""
    from models.base.errors import TeacherError
    from models.core.checkpoints import checkpoint_path, load_teacher, read_sidecar
    card = read_sidecar(spec)
    if card.get("kind") != CARD_KIND:
        return load_teacher(spec)
    path = checkpoint_path(spec)
    try:
        model = load_student(card["student"], torch.load(path, map_location="cpu", weights_only=True))
    except Exception as error:  # missing, damaged, or not the architecture its card names
        raise TeacherError(f"student file {path} does not load as the {card.get('student')} its card names "
                           f"({type(error).__name__}); download it again") from None
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise TeacherError(f"student file {path} holds NaN or inf weights; download it again")
    return model
