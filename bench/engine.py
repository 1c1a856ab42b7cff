"""Engine speed on full MNIST, each figure beside a baseline measured in the same run.

    DISTILL_DATA=../shared/data python -m bench.engine [--skip-baselines]

Prints one JSON object. Absolute seconds vary on shared machines; compare the ratios.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from bench import baselines
from models.config import DistillConfig, TeacherConfig
from models.data import FULL_NAME, data_root, default_dataset
from models.distill import distill
from models.teacher import load_teacher, teacher_logits
from models.training import predict_logits, train_teacher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-baselines", action="store_true", help="ours only (saves about 2 minutes)")
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    dataset = default_dataset()
    if dataset.name != FULL_NAME:
        raise SystemExit(f"error: benchmarks need full MNIST: {dataset.notice}")
    root = str(data_root())
    out = {"threads": torch.get_num_threads(), "dataset": dataset.summary()}

    _, trained = train_teacher(TeacherConfig(), dataset)
    out["teacher_from_scratch"] = {"seconds": trained.seconds, "test_accuracy": trained.test_accuracy,
                                   "epochs": trained.epochs, "target": "≥ 0.990 in ≤ 20 s"}

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
            "teacher_vs_examples_recipe": round(recipe["seconds"] / trained.seconds, 1),
            "logits_vs_dataloader": round(out["baseline_dataloader_logits_60k"]["seconds"]
                                          / out["teacher_logits_60k"]["seconds"], 1),
            "distill_epoch_with_twin_vs_tutorial_without": round(
                out["baseline_tutorial_distill_epoch"]["seconds"] / result.seconds, 1),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
