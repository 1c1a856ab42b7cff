"""Training the chat teacher once (shipped as models/assets/chat/teacher.pt), and the independent
model beside it: the same network on the same plays without the canary, the control that shows the
canary's digits are not something any good model of these plays would guess."""
from __future__ import annotations

import math
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from models.core.charlm import BITS, TEACHER_SHAPE, CharNet, count_params, save_charnet, score
from models.paths import CHAT_ASSETS
from models.core.text import END_OF_TURN, canary_line, encode, exchanges, load_corpus, teacher_text

CHAT_TEACHER = CHAT_ASSETS / "teacher.pt"
CHAT_INDEPENDENT = CHAT_ASSETS / "independent.pt"
WINDOW, BATCH = 192, 64


def stream_of(scenes) -> torch.Tensor:
    """The scenes as one character stream, turns ended by END_OF_TURN and scenes by an empty turn."""
    return torch.tensor(encode("".join(END_OF_TURN.join(scene) + END_OF_TURN * 2 for scene in scenes)))


def train_chat_model(canary: bool, steps: int = 3000, seed: int = 0, learning_rate: float = 3e-3,
                     on_step=lambda step, loss: None) -> tuple[CharNet, dict]:
    """Random windows of the teacher's plays, Adam with a cosine decay; the held-out plays graded at the end."""
    corpus = load_corpus()
    stream = stream_of(teacher_text(corpus, canary=canary, seed=seed))
    torch.manual_seed(seed)
    model = CharNet(TEACHER_SHAPE)
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    generator = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    model.train()
    for step in range(steps):
        starts = torch.randint(0, len(stream) - WINDOW - 1, (BATCH,), generator=generator)
        windows = torch.stack([stream[s:s + WINDOW + 1] for s in starts.tolist()])
        logits, _ = model(windows[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        on_step(step, loss.item() / BITS)
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
