"""How the *Distil a student* defaults were chosen: on validation images, never the test set.

    DISTILL_DATA=../shared/data python -m bench.defaults [--seeds 3]

Each candidate setting (mlp-100; T, transfer-set size, epochs) is distilled over seeds 0..K-1.
Both the student and its twin are scored on the lab's fixed validation split (the missing-digit
split: a tenth of the training set) minus that run's own transfer images, so no score reads the
test set or an image the run trained on. The candidate with the largest mean validation gain
whose interval is clear of zero wins. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from models.base.configs import DistillConfig
from models.core.data import default_dataset
from models.experiments.distill import distill, transfer_indices
from models.experiments.missing_digit import validation_indices
from models.core.checkpoints import load_student
from models.core.stats import summarise
from models.core.checkpoints import teacher_logits
from models.core.training import accuracy, predict_logits

CANDIDATES = [  # (temperature, transfer-set size, epochs): similar budgets, the knobs the page exposes
    (4.0, 2000, 50), (8.0, 2000, 50), (20.0, 2000, 50), (8.0, 1000, 100), (8.0, 5000, 20),
]


def validation_scores(config: DistillConfig, dataset, logits) -> tuple[float, float]:
    """(distilled, scratch) accuracy on the validation split minus this run's transfer images."""
    result, weights = distill(config, dataset, logits)
    held_out = validation_indices(dataset.train_size)
    held_out = held_out[~torch.isin(held_out, transfer_indices(config.seed, config.train_size, dataset.train_y))]
    images, labels = dataset.train_x[held_out], dataset.train_y[held_out]
    student = load_student(config.student, weights)
    twin = load_student(config.student, weights, twin=True)
    return accuracy(predict_logits(student, images), labels), accuracy(predict_logits(twin, images), labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    dataset = default_dataset()
    logits = teacher_logits("pretrained", dataset)
    started = time.perf_counter()
    rows = []
    for temperature, train_size, epochs in CANDIDATES:
        scores = [validation_scores(DistillConfig(temperature=temperature, train_size=train_size, epochs=epochs,
                                                  seed=seed), dataset, logits) for seed in range(args.seeds)]
        s = summarise(list(range(args.seeds)), [d for d, _ in scores], [t for _, t in scores])
        rows.append({"temperature": temperature, "train_size": train_size, "epochs": epochs,
                     "validation_distilled": round(s.distilled_mean, 4), "validation_scratch": round(s.scratch_mean, 4),
                     "validation_gain": round(s.gain_mean, 4), "gain_ci": [round(s.gain_ci_low, 4),
                                                                           round(s.gain_ci_high, 4)],
                     "verdict": s.verdict})
    clear = [r for r in rows if r["verdict"] == "clear gain"] or rows
    best = max(clear, key=lambda r: r["validation_gain"])
    print(json.dumps({"dataset": dataset.summary(), "seeds": args.seeds, "student": "mlp-100", "rows": rows,
                      "chosen": {k: best[k] for k in ("temperature", "train_size", "epochs")},
                      "seconds": round(time.perf_counter() - started, 1)}, indent=2))


if __name__ == "__main__":
    main()
