"""Kept for the cards of students downloaded before the engine had layers: they say
`models.nets.load_student(card['student'], torch.load(PT, weights_only=True))`. New code imports
from models.core.nets (architectures) and models.core.checkpoints (stored models)."""
from models.core.checkpoints import has_twin, load_student  # noqa: F401
from models.core.nets import STUDENT_PRESETS, build_student, count_params, student_params  # noqa: F401
