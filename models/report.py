"""Turn stored distillation runs into rows, groups over seeds, and CSV: no UI here."""
from __future__ import annotations

import csv
import io
import statistics
from datetime import datetime, timezone

from models.distill import verdict
from models.store import Run

SETTING_KEYS = ("student", "temperature", "alpha", "train_size", "epochs", "teacher", "omit_class")
CSV_COLUMNS = ("id", "name", "status", "student", "student_params", "temperature", "alpha", "train_size",
               "epochs", "seed", "distilled_accuracy", "scratch_accuracy", "gain", "teacher_accuracy",
               "seconds", "dataset", "created")


def run_rows(runs: list[Run]) -> list[dict]:
    """One flat row per distillation run; unfinished runs carry their status and no accuracies."""
    rows = []
    for run in runs:
        config, result = run.config, run.result or {}
        rows.append({
            "id": run.id,
            "name": run.name,
            "label": run.name or f"#{run.id} {config['student']} T={config['temperature']:g}",
            "status": run.status,
            **{k: config.get(k) for k in (*SETTING_KEYS, "seed")},
            "student_params": result.get("student_params"),
            "distilled_accuracy": result.get("distilled_accuracy"),
            "scratch_accuracy": result.get("scratch_accuracy"),
            "gain": result.get("gain"),
            "teacher_accuracy": result.get("teacher_accuracy"),
            "teacher_params": result.get("teacher_params"),
            "seconds": result.get("seconds"),
            "dataset": (result.get("dataset") or {}).get("name"),
            "created": datetime.fromtimestamp(run.created, timezone.utc).strftime("%Y-%m-%d %H:%M"),
        })
    return rows


def seed_groups(rows: list[dict]) -> list[dict]:
    """Finished runs with the same settings but different seeds, with mean gain, spread and verdict."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if row["status"] == "done":
            groups.setdefault(tuple(row[k] for k in SETTING_KEYS), []).append(row)
    out = []
    for key, members in groups.items():
        gains = [m["gain"] for m in members]
        spread = statistics.stdev(gains) if len(gains) > 1 else 0.0
        out.append({**dict(zip(SETTING_KEYS, key)), "seeds": len(members),
                    "gain_mean": statistics.fmean(gains), "gain_std": spread,
                    "verdict": verdict(statistics.fmean(gains), spread, len(members))})
    return out


def rows_to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
