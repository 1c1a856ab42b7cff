"""Which signal teaches most, paired: labels only (the scratch twin), soft targets, the teacher's
features (FitNets hint or cosine, no soft targets), and both; at equal epochs and images, over seeds
with the lab's intervals and verdicts. Also the default feature run's time against the default
logit run's, in the same run.

    DISTILL_DATA=../shared/data python -m bench.features [--seeds 3] [--skip-missing-digit]

Settings: the Distil page's default (mlp-100, 2,000 images, 50 epochs, T = 20), a smaller transfer
set (500 images, 100 epochs), and a short missing-digit run (mlp-100, 10,000 images without a
single 3, 10 epochs: the paper's experiment at a laptop budget); and for the cnn-tiny student at the
Distil defaults, attention transfer. Every signal's run trains beside
its own scratch twin from the same start on the same batches; a signal's gain over another is paired
by seed. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time

import torch

from models.base.configs import DEFAULT_BETA, DistillConfig
from models.core.checkpoints import teacher_logits
from models.core.data import default_dataset
from models.core.stats import t_interval, verdict
from models.experiments.distill import distill

SIGNALS = {
    "soft targets": dict(),
    "features (hint)": dict(alpha=0.0, feature="hint", beta=DEFAULT_BETA),
    "features (cosine)": dict(alpha=0.0, feature="cosine", beta=DEFAULT_BETA),
    "soft targets + features (hint)": dict(feature="hint", beta=DEFAULT_BETA),
}
CNN_SIGNALS = {
    "soft targets": dict(),
    "attention only": dict(alpha=0.0, feature="attention", beta=DEFAULT_BETA),
    "soft targets + attention": dict(feature="attention", beta=DEFAULT_BETA),
}
SETTINGS = {
    "Distil default (2,000 images)": DistillConfig(),
    "small transfer set (500 images)": DistillConfig(train_size=500, epochs=100),
    "missing digit 3 (10,000 images, 10 epochs)": DistillConfig(train_size=10_000, epochs=10, omit_class=3),
    "cnn-tiny, attention transfer (2,000 images)": DistillConfig(student="cnn-tiny"),
}


def paired(differences: list[float]) -> dict:
    interval = t_interval(differences)
    return {"mean_points": round(100 * sum(differences) / len(differences), 2),
            "interval_points": None if interval is None else [round(100 * v, 2) for v in interval],
            "verdict": verdict(interval, len(differences))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--skip-missing-digit", action="store_true")
    parser.add_argument("--only", help="run only the settings whose name contains this")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as a room worker runs
    dataset = default_dataset()
    logits = teacher_logits("pretrained", dataset)
    out = {"dataset": dataset.summary(), "seeds": args.seeds, "settings": {}}
    for setting, base in SETTINGS.items():
        if (args.skip_missing_digit and base.omit_class is not None) or (args.only and args.only not in setting):
            continue
        runs: dict[str, list] = {}
        for signal, change in (CNN_SIGNALS if base.student == "cnn-tiny" else SIGNALS).items():
            for seed in range(args.seeds):
                started = time.perf_counter()
                result, _ = distill(dataclasses.replace(base, seed=seed, **change), dataset, logits)
                runs.setdefault(signal, []).append((result, time.perf_counter() - started))
        twin = [r.scratch_accuracy for r, _ in runs["soft targets"]]  # the same twin in every signal's run
        table = {"labels only (scratch twin)": {"accuracy": round(100 * sum(twin) / len(twin), 2)}}
        for signal, results in runs.items():
            accuracy = [r.distilled_accuracy for r, _ in results]
            row = {"accuracy": round(100 * sum(accuracy) / len(accuracy), 2),
                   "over_labels_only": paired([a - r.scratch_accuracy for a, (r, _) in zip(accuracy, results)]),
                   "seconds": round(sum(s for _, s in results) / len(results), 2)}
            if signal != "soft targets":
                soft = [r.distilled_accuracy for r, _ in runs["soft targets"]]
                row["over_soft_targets"] = paired([a - b for a, b in zip(accuracy, soft)])
            if base.omit_class is not None:
                row["omitted_digit_accuracy"] = round(100 * sum(r.missing_digit.omitted_class_accuracy
                                                                for r, _ in results) / len(results), 2)
            table[signal] = row
        if base.omit_class is not None:
            table["labels only (scratch twin)"]["omitted_digit_accuracy"] = round(100 * sum(
                r.missing_digit.scratch_omitted_class_accuracy for r, _ in runs["soft targets"]) / args.seeds, 2)
        out["settings"][setting] = table
    default = out["settings"].get("Distil default (2,000 images)")
    if default:
        out["feature_run_over_logit_run_time"] = round(
            default["soft targets + features (hint)"]["seconds"] / default["soft targets"]["seconds"], 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
