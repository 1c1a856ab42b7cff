"""The figures behind the copying lessons, on whatever data $DISTILL_DATA holds (one JSON object).

    DISTILL_DATA=../shared/data python -m bench.copying

- fidelity against exchanges for sampled replies (1, 4, 16 per image), full probabilities and labels;
- the naive and the adaptive copier (4 asks per image) against fresh and fixed noise;
- the detector's area under the ROC curve as copiers mix in more real digits (honest users send 2 %
  odd images);
- the share of the teacher's mistakes repeated by a copy, an independent model, a distilled student
  and its scratch twin.
"""
from __future__ import annotations

import json
import time

from models.base.configs import DetectorConfig, DistillConfig, ExtractConfig
from models.core.data import default_dataset
from models.experiments.detector import run_detector
from models.experiments.distill import distill
from models.experiments.extraction import CURVE_LINES, curve_config, run_extraction, variant_label

EXCHANGES = (1_000, 10_000)
LINES = [line for line in CURVE_LINES if line[0] in ("probs", "label", "sample")]


def main() -> None:
    dataset = default_dataset()
    started = time.perf_counter()
    out: dict = {"dataset": dataset.summary(), "student": ExtractConfig.student}
    curve = {}
    for answers, samples in LINES:
        for exchanges in EXCHANGES:
            result, _ = run_extraction(curve_config(answers, samples, exchanges), dataset)
            curve.setdefault(variant_label(answers, "none", samples), {})[exchanges] = {
                "images": result.images, "fidelity": round(result.fidelity, 4),
                "copy_accuracy": round(result.copy_accuracy, 4)}
    out["fidelity_by_exchanges"] = curve
    out["fidelity_same_1000_images"] = {}
    for api_temperature in (1.0, 4.0):  # per image, more replies estimate the service's distribution
        for samples in (1, 4, 16):
            result, _ = run_extraction(ExtractConfig(queries=1000, answers="sample", samples_per_image=samples,
                                                     api_temperature=api_temperature), dataset)
            out["fidelity_same_1000_images"][f"{samples} replies per image at T = {api_temperature:g}"] = \
                round(result.fidelity, 4)

    defences = {}
    for defence in ("none", "noise", "fixed-noise"):
        for asks in (1, 4):
            result, _ = run_extraction(ExtractConfig(queries=1000, defence=defence, samples_per_image=asks), dataset)
            defences[f"{defence}, asked {asks}x"] = round(result.fidelity, 4)
            if defence == "none" and asks == 1:
                out["forensics"] = {"copy": round(result.teacher_mistakes_shared, 4),
                                    "independent": round(result.independent_mistakes_shared, 4)}
    out["fidelity_against_defences_1000_images"] = defences

    student, _ = distill(DistillConfig(), dataset)
    out["forensics"] |= {"distilled": round(student.teacher_mistakes_shared, 4),
                         "scratch": round(student.scratch_mistakes_shared, 4), "distill_config": "defaults"}

    out["detector_auc"] = {}
    for real_share in (0.0, 0.9, 0.98, 0.99):
        report = run_detector(DetectorConfig(copier_real_share=real_share, honest_odd_share=0.02), dataset)
        out["detector_auc"][f"copier mixes {real_share:.0%} real digits"] = {
            source: round(c.auc, 3) for source, c in report.copiers.items()}
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
