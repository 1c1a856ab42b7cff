"""Engine speed on full MNIST, each figure beside a baseline measured in the same run.

    DISTILL_DATA=../shared/data python -m bench.engine [--skip-baselines]

Prints one JSON object. Absolute seconds vary on shared machines; compare the ratios.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from bench import baselines
from models.base.configs import DistillConfig, TeacherConfig
from models.core.data import FULL_NAME, data_root, default_dataset
from models.experiments.distill import distill
from models.core.checkpoints import load_teacher, teacher_logits
from models.core.training import predict_logits
from models.experiments.teacher import train_teacher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-baselines", action="store_true", help="ours only (saves about 2 minutes)")
    parser.add_argument("--teacher-seeds", type=int, default=3, help="teachers trained from scratch, seeds 0..N-1")
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    dataset = default_dataset()
    if dataset.name != FULL_NAME:
        raise SystemExit(f"error: benchmarks need full MNIST: {dataset.notice}")
    root = str(data_root())
    out = {"threads": torch.get_num_threads(), "dataset": dataset.summary()}

    # Several seeds: one lucky seed is not "reaches 99 %".
    teachers = [train_teacher(TeacherConfig(seed=seed), dataset)[1] for seed in range(args.teacher_seeds)]
    teacher_seconds = statistics.median(t.seconds for t in teachers)
    out["teacher_from_scratch"] = {
        "seeds": len(teachers), "seconds": [t.seconds for t in teachers],
        "test_accuracy": [t.test_accuracy for t in teachers], "epochs": teachers[0].epochs,
        "lowest_accuracy": min(t.test_accuracy for t in teachers),
        "target": "every seed ≥ 0.990, median time ≤ ¼ of one epoch of the examples recipe"}

    teacher = load_teacher("pretrained")
    started = time.perf_counter()
    predict_logits(teacher, dataset.train_x)
    out["teacher_logits_60k"] = {"seconds": round(time.perf_counter() - started, 2), "target": "≤ 3 s"}

    logits = teacher_logits("pretrained", dataset)  # cached: students never run the teacher
    result, _ = distill(DistillConfig(train_size=0, epochs=1), dataset, logits)
    out["mlp100_distill_epoch_with_twin"] = {"seconds": result.seconds, "target": "≤ 2 s"}

    if not args.skip_baselines:
        recipe = baselines.examples_recipe(root)
        out["baseline_examples_recipe_1_epoch"] = recipe
        out["baseline_dataloader_logits_60k"] = {"seconds": baselines.dataloader_logits(teacher, root)}
        out["baseline_tutorial_distill_epoch"] = {"seconds": baselines.tutorial_distillation_epoch(teacher, root)}
        out["ratios"] = {
            "teacher_time_over_examples_recipe_epoch": round(teacher_seconds / recipe["seconds"], 3),
            "logits_vs_dataloader": round(out["baseline_dataloader_logits_60k"]["seconds"]
                                          / out["teacher_logits_60k"]["seconds"], 1),
            "distill_epoch_with_twin_vs_tutorial_without": round(
                out["baseline_tutorial_distill_epoch"]["seconds"] / result.seconds, 1),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
