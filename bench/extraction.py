"""Extraction speed: one copy from 10,000 queries (full probabilities, MNIST source, mlp-100).

    DISTILL_DATA=../shared/data python -m bench.extraction

Measured: the copy alone (batched API calls + training), and the whole run (which also trains the
forensics control: an independent model of the same size on true labels). Baseline, same run: the
same copy but asking the API one image per call, as a copier hitting a web API one question at a
time would. Prints one JSON object.
"""
from __future__ import annotations

import json
import time

import torch

from models.core.data import default_dataset
from models.base.configs import ExtractConfig
from models.experiments.extraction import PredictionAPI, answers_to_targets, run_extraction, train_copy
from models.experiments.queries import query_set
from models.core.checkpoints import load_teacher


def main() -> None:
    dataset = default_dataset()
    config = ExtractConfig(queries=10_000)
    result, _ = run_extraction(config, dataset)
    out = {"dataset": dataset.summary(), "queries": config.queries, "epochs": result.epochs,
           "extraction_with_forensics_seconds": result.seconds, "copy_accuracy": result.copy_accuracy,
           "fidelity": result.fidelity}
    teacher = load_teacher(config.teacher)
    images = query_set(config.source, config.queries, config.seed, dataset).images

    started = time.perf_counter()
    targets = answers_to_targets(PredictionAPI(teacher, config.answers).ask(images), config.copier_temperature)
    train_copy(images, targets, config)
    out["copy_seconds"] = round(time.perf_counter() - started, 2)
    out["target"] = "copy ≤ 10 s"

    started = time.perf_counter()
    api = PredictionAPI(teacher, config.answers)
    answers = torch.cat([api.query(images[i:i + 1]) for i in range(len(images))])
    train_copy(images, answers_to_targets(answers, config.copier_temperature), config)
    out["baseline_one_query_per_call_seconds"] = round(time.perf_counter() - started, 2)
    out["speedup"] = round(out["baseline_one_query_per_call_seconds"] / out["copy_seconds"], 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
