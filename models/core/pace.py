"""This machine's measured training pace (models/assets/pace.json, from `python -m bench.pace --write`,
one thread as a worker runs), and the work of the lab's common shapes of run in seconds at that pace.
Torch-free: the cost of a submission is known before anything loads."""
from __future__ import annotations

import functools
import json

from models.base.paths import PACE

FULL_TRAIN = 60_000  # train_size 0 means every training image
TEST_IMAGES = 10_000  # every kind grades on the test set after each epoch or once at the end


@functools.lru_cache(maxsize=1)
def pace() -> dict:
    return json.loads(PACE.read_text())


def train_s(network: str, examples: float) -> float:
    return pace()["images"][network]["train_s_per_1k"] * examples / 1000


def eval_s(network: str, examples: float) -> float:
    return pace()["images"][network]["eval_s_per_1k"] * examples / 1000


def images(train_size: int) -> int:
    return train_size or FULL_TRAIN


def students_s(network: str, copies: int, epochs: int, examples: int) -> float:
    """`copies` networks of one preset trained on the same batches, graded on the test set each epoch."""
    return copies * epochs * (train_s(network, examples) + eval_s(network, TEST_IMAGES))


def chat_train_s(student: str, characters: float) -> float:
    return pace()["chat_train_s_per_1k_chars"][student] * characters / 1000


def chat_sample_s(characters: float) -> float:
    return pace()["chat_sample_s_per_1k_chars"] * characters / 1000
