"""Turn stored distillation runs into rows, groups over seeds, and CSV: no UI here."""
from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import datetime, timezone
from typing import Iterable

from models.base.configs import DistillConfig
from models.service.names import clean_name, spreadsheet_cell
from models.core.stats import summarise
from models.service.store import Run

SETTING_KEYS = ("student", "temperature", "alpha", "train_size", "epochs", "teacher", "omit_class")
# What makes two runs comparable seeds of one setting: every config field but the seed (the defaults
# fill fields older runs lack), the same dataset, and the same teacher checkpoint bytes.
GROUP_KEYS = ("setting", "dataset_fingerprint", "teacher_digest")
CSV_COLUMNS = ("id", "name", "status", "student", "student_params", "signal", "temperature", "alpha", "train_size",
               "epochs", "seed", "distilled_accuracy", "scratch_accuracy", "gain", "teacher_accuracy",
               "smoothed_accuracy", "shuffled_accuracy", "seconds", "dataset", "teacher_digest", "created",
               "archived")


def run_rows(runs: list[Run]) -> list[dict]:
    """One flat row per distillation run; unfinished runs carry their status and no accuracies."""
    rows = []
    for run in runs:
        config, result = _as_dict(run.config), run.result
        rows.append({
            "id": run.id,
            "name": clean_name(run.name),  # rows written before names were cleaned on the way in
            # The id keeps every label unique: one visitor's name cannot stand in for another's run.
            "label": f"#{run.id} " + (clean_name(run.name) or f"{config['student']} T={config['temperature']:g}"),
            "status": run.status,
            "archived": run.archived,
            **{k: config.get(k) for k in (*SETTING_KEYS, "seed")},
            **{k: getattr(result, k, None) for k in ("student_params", "distilled_accuracy", "scratch_accuracy",
                                                     "gain", "teacher_accuracy", "teacher_params", "seconds",
                                                     "smoothed_accuracy", "shuffled_accuracy", "teacher_digest")},
            "dataset": result.dataset.get("name") if result else None,
            "dataset_fingerprint": result.dataset.get("fingerprint", result.dataset.get("name")) if result else None,
            "signal": learned_from(config),
            "setting": setting_key(config),
            "created": datetime.fromtimestamp(run.created, timezone.utc).strftime("%Y-%m-%d %H:%M"),
        })
    return rows


def learned_from(config) -> str:
    """What the student learned from, in words: labels only (α = 0, no feature term), soft targets,
    the teacher's features, or both (rows written before feature distillation have none)."""
    values = _as_dict(config)
    feature, soft = values.get("feature", "none"), (values.get("alpha") or 0) > 0
    if feature in (None, "none"):
        return "soft targets" if soft else "labels only"
    layer = f"{feature} on {values.get('feature_layer', 'conv2')}, β = {values.get('beta', 0):g}"
    return f"soft targets + features ({layer})" if soft else f"features ({layer})"


def _as_dict(config) -> dict:
    return dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)


def setting_key(config) -> str:
    """Every config field but the seed, as one comparable string (defaults fill older runs' gaps)."""
    full = {**dataclasses.asdict(DistillConfig()), **_as_dict(config)}
    full.pop("seed")
    return json.dumps(full, sort_keys=True)


def seed_groups(rows: list[dict]) -> list[dict]:
    """Finished runs of one setting on one dataset with one teacher checkpoint, each seed counted once
    (the newest run of a repeated seed stands for it), with the gain's interval and verdict."""
    groups: dict[tuple, dict[int, dict]] = {}
    runs_in: dict[tuple, int] = {}
    for row in rows:  # newest first, so the first run seen of a seed is the one kept
        if row["status"] == "done":
            key = tuple(row[k] for k in GROUP_KEYS)
            groups.setdefault(key, {}).setdefault(row["seed"], row)
            runs_in[key] = runs_in.get(key, 0) + 1
    out = []
    for key, by_seed in groups.items():
        members = sorted(by_seed.values(), key=lambda m: m["seed"])
        s = summarise([m["seed"] for m in members], [m["distilled_accuracy"] for m in members],
                      [m["scratch_accuracy"] for m in members])
        out.append({**{k: members[0][k] for k in SETTING_KEYS}, "setting": key[0], "dataset": members[0]["dataset"],
                    "dataset_fingerprint": key[1], "teacher_digest": key[2], "distilled_mean": s.distilled_mean,
                    "seeds": s.count, "gain_mean": s.gain_mean, "gain_ci_low": s.gain_ci_low,
                    "gain_ci_high": s.gain_ci_high, "verdict": s.verdict, "repeats": runs_in[key] - s.count})
    return out


def differing_fields(groups: list[dict]) -> list[str]:
    """The config fields (beyond the seed) whose values differ between these groups, plus "dataset"
    and "teacher_digest" when those do: what a table must show so that no two rows look alike."""
    settings = [json.loads(g["setting"]) for g in groups]
    fields = [k for k in (settings[0] if settings else {}) if len({json.dumps(s.get(k)) for s in settings}) > 1]
    return fields + [k for k in ("dataset", "teacher_digest") if len({g[k] for g in groups}) > 1]


def transfer_words(train_size: int | None, omit_class: int | None) -> str:
    """The transfer set in words: a count, "all", or "all but the 3s" (0 means every training image)."""
    if train_size is None:
        return ""
    every = "all" if not train_size else f"{train_size:,}"
    return every + (f" (no {omit_class}s)" if omit_class is not None else "")


def to_csv(rows: Iterable[dict], columns: Iterable[str]) -> str:
    """CSV text with these columns (extra keys in a row are left out); no cell is a spreadsheet formula."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows({key: spreadsheet_cell(value) for key, value in row.items()} for row in rows)
    return buffer.getvalue()


def rows_to_csv(rows: list[dict]) -> str:
    return to_csv(rows, CSV_COLUMNS)
