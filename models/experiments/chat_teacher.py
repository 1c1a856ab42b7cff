"""Training the chat teacher once (shipped as models/assets/chat/teacher.pt), and the independent
model beside it: the same network on the same plays without the canary, the control that shows the
canary's digits are not something any good model of these plays would guess."""
from __future__ import annotations

import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from models.core.trainer import FitSettings, train
from models.core.charlm import BITS, TEACHER_SHAPE, CharNet, count_params, save_charnet, score
from models.base.paths import CHAT_ASSETS
from models.core.text import END_OF_TURN, canary_line, encode, exchanges, load_corpus, teacher_text

CHAT_TEACHER = CHAT_ASSETS / "teacher.pt"
CHAT_INDEPENDENT = CHAT_ASSETS / "independent.pt"
WINDOW, BATCH, CLIP_NORM = 192, 64, 1.0
REPORT_EVERY = 10  # steps between the command's progress lines


def stream_of(scenes) -> torch.Tensor:
    """The scenes as one character stream, turns ended by END_OF_TURN and scenes by an empty turn."""
    return torch.tensor(encode("".join(END_OF_TURN.join(scene) + END_OF_TURN * 2 for scene in scenes)))


class RandomWindows:
    """The trainer's batch source for a character model: `steps` batches of BATCH random windows of
    the stream, each with the character that follows every position."""

    def __init__(self, stream: torch.Tensor, steps: int):
        self.stream, self.steps = stream, steps

    def steps_per_epoch(self) -> int:
        return self.steps

    def epoch(self, generator: torch.Generator):
        for _ in range(self.steps):
            starts = torch.randint(0, len(self.stream) - WINDOW - 1, (BATCH,), generator=generator)
            yield torch.stack([self.stream[s:s + WINDOW + 1] for s in starts.tolist()])


def next_character_loss(model: CharNet, windows: torch.Tensor) -> torch.Tensor:
    logits, _ = model(windows[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1))


def train_chat_model(canary: bool, steps: int = 3000, seed: int = 0, learning_rate: float = 3e-3,
                     on_step=lambda step, loss: None) -> tuple[CharNet, dict]:
    """Random windows of the teacher's plays, Adam with a cosine decay, through the lab's one
    trainer; the held-out plays graded at the end."""
    corpus = load_corpus()
    stream = stream_of(teacher_text(corpus, canary=canary, seed=seed))
    torch.manual_seed(seed)
    model = CharNet(TEACHER_SHAPE)
    settings = FitSettings(1, BATCH, learning_rate, seed, schedule="cosine", clip_norm=CLIP_NORM)
    started = time.perf_counter()
    train({"teacher": model}, {"teacher": next_character_loss}, RandomWindows(stream, steps), settings,
          on_step=lambda done, losses: on_step(round(done * steps), losses["teacher"] / BITS),
          report_every=REPORT_EVERY)
    model.eval()
    held_out = score(model, exchanges(corpus.held_out_scenes))
    return model, {"held_out_bits_per_char": round(held_out["bits_per_char"], 4), "steps": steps,
                   "seed": seed, "canary": canary_line() if canary else None,
                   "parameters": count_params(model), "seconds": round(time.perf_counter() - started, 1),
                   "training_characters": len(stream)}


def train_and_save(path: Path, canary: bool, steps: int, seed: int, on_step) -> dict:
    model, facts = train_chat_model(canary, steps, seed, on_step=on_step)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_charnet(model, path)
    return {**facts, "path": os.path.relpath(path), "bytes": path.stat().st_size}
