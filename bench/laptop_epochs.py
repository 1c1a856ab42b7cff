"""How the laptop paper table's epochs per student were chosen: on validation images, never the test set.

    DISTILL_DATA=../shared/data python -m bench.laptop_epochs [--seeds 2] [--candidates 4 8 12 16]

The laptop table (models/experiments/hinton.py, budget "laptop") trains two 2 × 800 students, one
distilled from the pretrained CNN at T = 20 and one from scratch, each with its own cosine schedule
over `epochs`. Here each candidate epoch count trains both on the training set minus the lab's fixed
validation split, and counts their errors on that split. The table exists to show the paper's
shape in a workshop's minutes, so the rule is Breiman's one-standard-error rule: the fewest epochs
whose mean validation gap (scratch errors minus distilled errors) is within one standard error
(over seeds) of the largest mean gap. The teacher CNN itself trained on those validation images (it is more often
right there than on the test set), which every candidate shares. Prints one JSON object; the
baseline beside each candidate is the scratch twin trained on the same batches.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import torch

from models.base.configs import HintonConfig
from models.core.checkpoints import teacher_logits
from models.core.data import default_dataset
from models.core.training import BATCH_ORDER_OFFSET, FitSettings, hard_label_loss
from models.experiments.distill import fit_on_teacher, soft_target_loss, student_and_twin
from models.experiments.missing_digit import validation_indices


def validation_errors(epochs: int, seed: int, dataset, logits) -> dict[str, int]:
    """Both laptop-table students trained for `epochs` without the validation split; their errors on it."""
    config = HintonConfig(epochs=epochs, seed=seed)
    held_out = validation_indices(dataset.train_size)
    index = torch.arange(dataset.train_size)[~torch.isin(torch.arange(dataset.train_size), held_out)]
    student, twin = student_and_twin("mlp-800", config.seed)
    curves, _ = fit_on_teacher(
        {"distilled": student, "scratch": twin},
        {"distilled": soft_target_loss(config.temperature, config.alpha), "scratch": hard_label_loss},
        dataset, logits, index,
        FitSettings(config.epochs, config.batch_size, config.learning_rate, config.seed + BATCH_ORDER_OFFSET,
                    "cosine"))
    return {name: round((1 - curves[-1][name]) * len(held_out)) for name in ("distilled", "scratch")}


def choose(rows: list[dict]) -> int:
    """The one-standard-error rule: the fewest epochs whose mean validation gap is within one standard
    error of the best mean gap (more epochs cost minutes; a smaller gap within the noise costs nothing)."""
    best = max(rows, key=lambda row: row["validation_gap_mean"])
    enough = best["validation_gap_mean"] - best["validation_gap_se"]
    return min(row["epochs"] for row in rows if row["validation_gap_mean"] >= enough)


def gap_summary(per_seed: list[dict]) -> dict:
    """Mean and standard error over seeds of the validation gap (scratch errors - distilled errors)."""
    gaps = [r["scratch"] - r["distilled"] for r in per_seed]
    se = statistics.stdev(gaps) / math.sqrt(len(gaps)) if len(gaps) > 1 else 0.0
    return {"validation_gap_mean": sum(gaps) / len(gaps), "validation_gap_se": round(se, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="seeds 0..K-1 per candidate")
    parser.add_argument("--candidates", type=int, nargs="+", default=[4, 8, 12, 16], help="epochs per student")
    args = parser.parse_args()
    dataset = default_dataset()
    logits = teacher_logits("pretrained", dataset)
    held_out = validation_indices(dataset.train_size)
    started = time.perf_counter()
    rows = []
    for epochs in args.candidates:
        began = time.perf_counter()
        per_seed = [validation_errors(epochs, seed, dataset, logits) for seed in range(args.seeds)]
        rows.append({"epochs": epochs, "validation_errors": per_seed, **gap_summary(per_seed),
                     "seconds": round(time.perf_counter() - began, 1)})
    print(json.dumps({"dataset": dataset.summary(), "validation_images": len(held_out),
                      "teacher_validation_errors": int((logits.train[held_out].argmax(1)
                                                        != dataset.train_y[held_out]).sum()),
                      "seeds": args.seeds, "rows": rows, "chosen_epochs": choose(rows),
                      "seconds": round(time.perf_counter() - started, 1)}, indent=2))


if __name__ == "__main__":
    main()
