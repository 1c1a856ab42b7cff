"""Chat-copy speed on this machine: the page's default copy (text only, 1,000 exchanges, with its
twin) and the page's whole default budget curve (five answer modes at 100, 300 and 1,000
exchanges), each through the experiment's own run().

    python -m bench.chat [--skip-curve]

Baseline, same run: a plain PyTorch loop (batches of the same size, Adam, no API, no grading)
training the same student on as many text replies from the same API for as many passes. The teacher's
training time is read from its card (models/assets/chat/teacher.json) and one of its training steps
is timed here. Prints one JSON object; targets: default copy ≤ 60 s, whole curve ≤ 300 s.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time

import torch
import torch.nn.functional as F

from models.base.configs import CHAT_TOP_K, ChatCopyConfig
from models.core.charlm import TEACHER_SHAPE, CharNet, batch_of
from models.experiments import chat_copy
from models.experiments.chat_api import ChatAPI
from models.experiments.chat_teacher import BATCH, CHAT_TEACHER, WINDOW
from models.core.text import exchanges, load_corpus


def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    value = work()
    return round(time.perf_counter() - started, 2), value


def plain_loop(config: ChatCopyConfig, epochs: int) -> float:
    """The baseline: the default copy's replies, the same student, a bare training loop."""
    teacher = chat_copy.load_chat_teacher("pretrained")
    pool = exchanges(load_corpus().prompt_scenes)
    answers = ChatAPI(teacher, "text", reply_chars=config.reply_chars, seed=config.seed).ask(
        [pool[i % len(pool)].prompt for i in range(config.exchanges)])
    batches = [batch_of([a for a in answers[i:i + chat_copy.BATCH_SIZE]])
               for i in range(0, len(answers), chat_copy.BATCH_SIZE)]
    student, _ = chat_copy.starting_pair(config)
    optimiser = torch.optim.Adam(student.parameters(), lr=chat_copy.LEARNING_RATE)
    started = time.perf_counter()
    for _ in range(epochs):
        for batch in batches:
            logits, _ = student(batch.tokens)
            loss = F.cross_entropy(logits[batch.scored], batch.targets[batch.scored])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return round(time.perf_counter() - started, 2)


def teacher_step_seconds(steps: int = 10) -> float:
    model = CharNet(TEACHER_SHAPE)
    optimiser = torch.optim.Adam(model.parameters())
    windows = torch.randint(0, 40, (BATCH, WINDOW + 1))
    started = time.perf_counter()
    for _ in range(steps):
        logits, _ = model(windows[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return round((time.perf_counter() - started) / steps, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-curve", action="store_true", help="time the default copy only")
    args = parser.parse_args()
    config = ChatCopyConfig()
    chat_copy.teacher_facts("pretrained")  # loaded once per worker in the app too; timed apart
    seconds, outcome = timed(lambda: chat_copy.run(config, None, lambda p: None))
    r = outcome.result
    out = {"threads": torch.get_num_threads(), "default_copy_seconds": seconds, "default_copy": {
        "answers": r.answers, "exchanges": r.exchanges, "characters": r.characters, "epochs": r.epochs,
        "bits_per_char": round(r.bits_per_char, 4), "scratch_bits_per_char": round(r.scratch_bits_per_char, 4)}}
    out["baseline_plain_loop_copy_only_seconds"] = plain_loop(config, r.epochs)
    out["ratio_default_copy_to_baseline"] = round(seconds / out["baseline_plain_loop_copy_only_seconds"], 2)
    out["teacher_facts_seconds"], _ = timed(lambda: chat_copy._teacher_facts.__wrapped__(
        str(CHAT_TEACHER), 0.0))
    if not args.skip_curve:
        curve = [dataclasses.replace(config, answers=mode, exchanges=n)
                 for mode in CHAT_TOP_K for n in chat_copy.CURVE_EXCHANGES]
        out["curve_runs"] = len(curve)
        out["whole_curve_seconds"], _ = timed(lambda: [chat_copy.run(c, None, lambda p: None) for c in curve])
    card = json.loads(CHAT_TEACHER.with_suffix(".json").read_text())
    out["teacher_training_seconds_from_card"] = card.get("seconds")
    out["teacher_training_steps"] = card.get("steps")
    out["teacher_step_seconds_now"] = teacher_step_seconds()
    out["targets"] = {"default_copy_seconds": 60, "whole_curve_seconds": 300}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
