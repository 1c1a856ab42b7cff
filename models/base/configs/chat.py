"""The chat copy's config (models/experiments/chat_copy.py)."""
from __future__ import annotations

from dataclasses import dataclass

from models.base.configs.checks import _one_of, check_epochs, check_seed
from models.base.errors import ConfigError

# The chat lessons (models/experiments/chat_copy.py). What the chat API reveals per reply position:
# nothing but the text, the top k log-probabilities, or the full next-character distribution (None).
CHAT_TOP_K = {"text": 0, "top1": 1, "top5": 5, "top20": 20, "full": None}
CHAT_PROMPT_SOURCES = ("plays", "made-up")  # lines from plays the teacher never read, or invented ones
CHAT_STUDENTS = ("gru-64", "gru-96", "gru-160")
MAX_REPLY_CHARS = 400
MAX_CHAT_EXCHANGES = 20_000


@dataclass(frozen=True)
class ChatCopyConfig:
    """Copy the chat teacher through its replies; beside the copy its scratch twin, trained on as
    many characters of human replies from the same starting weights."""

    answers: str = "text"
    exchanges: int = 1000
    reply_chars: int = 200  # the longest reply the API writes
    prompts: str = "plays"
    temperature: float = 1.0  # the service's sampling temperature
    top_p: float = 1.0  # 1 samples from the whole distribution; below 1 from the top-p nucleus only
    student: str = "gru-96"
    seed: int = 0
    teacher: str = "pretrained"
    epochs: int = 0  # 0: as many as the characters call for (ChatCopyConfig.epochs_for)

    def __post_init__(self) -> None:
        _one_of("answer mode", self.answers, tuple(CHAT_TOP_K))
        _one_of("prompt source", self.prompts, CHAT_PROMPT_SOURCES)
        _one_of("chat student", self.student, CHAT_STUDENTS)
        if not 1 <= self.exchanges <= MAX_CHAT_EXCHANGES:
            raise ConfigError(f"exchanges must be between 1 and {MAX_CHAT_EXCHANGES}, got {self.exchanges}")
        if not 1 <= self.reply_chars <= MAX_REPLY_CHARS:
            raise ConfigError(f"reply length must be between 1 and {MAX_REPLY_CHARS} characters, got {self.reply_chars}")
        if not (isinstance(self.temperature, (int, float)) and 0.25 <= self.temperature <= 4):
            raise ConfigError(f"service temperature must lie in [0.25, 4], got {self.temperature}")
        if not (isinstance(self.top_p, (int, float)) and 0 < self.top_p <= 1):
            raise ConfigError(f"top-p must lie in (0, 1], got {self.top_p}")
        if self.epochs:
            check_epochs(self.epochs, most=100)
        check_seed(self.seed)

    def epochs_for(self, characters: int) -> int:
        """Fewer characters, more passes: about 400,000 characters of training in all, 3 to 30 passes."""
        return self.epochs or max(3, min(30, round(400_000 / max(characters, 1))))
