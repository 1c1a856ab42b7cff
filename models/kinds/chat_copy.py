"""A copy of the chat teacher through its replies, beside its scratch twin
(models/experiments/chat_copy.py)."""
from __future__ import annotations

from models.base.configs import ChatCopyConfig
from models.base.results import ChatCopyResult
from models.core.pace import chat_sample_s, chat_train_s
from models.kinds import Kind

PROMPT_CHARS, TYPICAL_REPLY_CHARS, GRADED_EXCHANGES = 120, 80, 600  # what one exchange puts through a network
SAMPLING_BATCH_PENALTY = 4  # one step per character, in batches of 256 replies


def cost(config: ChatCopyConfig) -> float:
    reply = min(config.reply_chars, TYPICAL_REPLY_CHARS)
    characters = config.exchanges * reply
    train = chat_train_s(config.student, config.epochs_for(characters) * config.exchanges * (PROMPT_CHARS + reply))
    asking = chat_sample_s(characters) * SAMPLING_BATCH_PENALTY
    grading = chat_train_s(config.student, GRADED_EXCHANGES * (PROMPT_CHARS + reply))
    return 2 * train + asking + 2 * grading  # the copy and its scratch twin


KIND = Kind("chat_copy", ChatCopyConfig, ChatCopyResult, "models.experiments.chat_copy", cost)
