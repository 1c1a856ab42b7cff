"""This machine's training pace per network, the basis of the room's cost estimates
(models/service/budget.py): seconds per 1,000 examples trained or evaluated, per 1,000 characters
trained, and per 1,000 characters the chat teacher writes, each on one thread, as a worker runs.

    python -m bench.pace [--write]

Prints one JSON object; --write also stores it as models/assets/pace.json. The baseline beside it
is the same step timed at the machine's full thread count (what a lone job gets).
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import torch
import torch.nn.functional as F

from models.base.configs import CHAT_STUDENTS, STUDENT_NAMES
from models.core.charlm import STUDENT_SHAPES, TEACHER_SHAPE, CharNet
from models.core.nets import MLP, TeacherCNN, build_student
from models.core.text import VOCABULARY
from models.base.paths import PACE

BATCH, STEPS, WARMUP = 128, 30, 3
CHAT_BATCH, CHAT_LENGTH = 32, 320  # a batch of exchanges: a prompt of 120 characters and a reply of 200
SAMPLE_BATCH = 256


def _timed(step, steps: int = STEPS) -> float:
    for _ in range(WARMUP):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - started) / steps


def image_pace(model: torch.nn.Module) -> dict:
    x, y = torch.randn(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))
    optimiser = torch.optim.Adam(model.parameters())

    def train_step():
        loss = F.cross_entropy(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    test = torch.randn(1000, 1, 28, 28)

    def eval_step():
        with torch.no_grad():
            model(test)

    return {"train_s_per_1k": round(_timed(train_step) * 1000 / BATCH, 5),
            "eval_s_per_1k": round(_timed(eval_step, 5), 5)}


def chat_pace(model: CharNet) -> float:
    tokens = torch.randint(0, len(VOCABULARY), (CHAT_BATCH, CHAT_LENGTH))
    optimiser = torch.optim.Adam(model.parameters())

    def train_step():
        logits, _ = model(tokens[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    return round(_timed(train_step, 5) * 1000 / (CHAT_BATCH * CHAT_LENGTH), 5)


def sampling_pace(model: CharNet) -> float:
    state, token = None, torch.zeros(SAMPLE_BATCH, 1, dtype=torch.long)

    def step():
        nonlocal state
        with torch.no_grad():
            out, state = model(token, state)
            torch.multinomial(F.softmax(out[:, -1], 1), 1)

    return round(_timed(step, 100) * 1000 / SAMPLE_BATCH, 5)


def measure(threads: int) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    images = {name: image_pace(build_student(name)) for name in STUDENT_NAMES}
    images["teacher"] = image_pace(TeacherCNN())
    images["paper-teacher"] = image_pace(MLP(1200, dropout=0.5))
    return {"images": images,
            "chat_train_s_per_1k_chars": {name: chat_pace(CharNet(STUDENT_SHAPES[name])) for name in CHAT_STUDENTS},
            "chat_sample_s_per_1k_chars": sampling_pace(CharNet(TEACHER_SHAPE))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="store the figures as models/assets/pace.json")
    args = parser.parse_args()
    full_threads = torch.get_num_threads()
    pace = {"threads": 1, **measure(1), "measured_by": "python -m bench.pace --write",
            "machine": f"{platform.node()} ({platform.machine()}, {full_threads} threads available)",
            "date": time.strftime("%Y-%m-%d")}
    baseline = measure(full_threads)
    out = {"pace": pace, "baseline_all_threads": {"threads": full_threads, **baseline},
           "ratio_one_thread_over_all": {name: round(pace["images"][name]["train_s_per_1k"]
                                                     / baseline["images"][name]["train_s_per_1k"], 2)
                                         for name in pace["images"]}}
    if args.write:
        PACE.write_text(json.dumps(pace, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
