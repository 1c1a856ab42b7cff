"""Turn stored distillation runs into rows, groups over seeds, and CSV: no UI here."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Iterable

from models.stats import summarise
from models.store import Run

SETTING_KEYS = ("student", "temperature", "alpha", "train_size", "epochs", "teacher", "omit_class")
CSV_COLUMNS = ("id", "name", "status", "student", "student_params", "temperature", "alpha", "train_size",
               "epochs", "seed", "distilled_accuracy", "scratch_accuracy", "gain", "teacher_accuracy",
               "seconds", "dataset", "created", "archived")


def run_rows(runs: list[Run]) -> list[dict]:
    """One flat row per distillation run; unfinished runs carry their status and no accuracies."""
    rows = []
    for run in runs:
        config, result = run.config, run.result
        rows.append({
            "id": run.id,
            "name": run.name,
            "label": run.name or f"#{run.id} {config['student']} T={config['temperature']:g}",
            "status": run.status,
            "archived": run.archived,
            **{k: config.get(k) for k in (*SETTING_KEYS, "seed")},
            **{k: getattr(result, k, None) for k in ("student_params", "distilled_accuracy", "scratch_accuracy",
                                                     "gain", "teacher_accuracy", "teacher_params", "seconds")},
            "dataset": result.dataset.get("name") if result else None,
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
        s = summarise([m["seed"] for m in members], [m["distilled_accuracy"] for m in members],
                      [m["scratch_accuracy"] for m in members])
        out.append({**dict(zip(SETTING_KEYS, key)), "seeds": s.count, "gain_mean": s.gain_mean,
                    "gain_std": s.gain_std, "verdict": s.verdict})
    return out


def to_csv(rows: Iterable[dict], columns: Iterable[str]) -> str:
    """CSV text with these columns (extra keys in a row are left out)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def rows_to_csv(rows: list[dict]) -> str:
    return to_csv(rows, CSV_COLUMNS)
