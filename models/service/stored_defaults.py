"""Each page's default run, measured once and shipped with the app, so that a page opens on a real
result before anyone trains anything (models/assets/stored_defaults.json).

The file is written by one recorded command, like the bundled teacher:

    DISTILL_DATA=../shared/data python -m models stored-defaults --write

which runs every page's default configs through the lab's one run lifecycle (a throwaway store)
and keeps their configs and results, the dataset they ran on, the command and the date. A page
reads them back as ordinary finished runs with negative ids (no store holds them, and no weights
come with them), and says that what it shows is the stored default.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import time
from pathlib import Path

from models.base.configs import (
    CHAT_TOP_K,
    DEFAULT_BETA,
    DEFAULT_NOISE,
    MISSING_DIGIT_DEFAULTS,
    ChatCopyConfig,
    DistillConfig,
    ExtractConfig,
    HintonConfig,
    SweepConfig,
)
from models.base.paths import ASSETS
from models.base.results import Progress
from models.service.kinds import config_of, kind_of, result_of
from models.service.schema import Run

STORED_DEFAULTS = ASSETS / "stored_defaults.json"
COMMAND = "python -m models stored-defaults --write"
# The copy page's default budget curve: these ways of answering at these budgets.
COPY_CURVE_LINES = ("probs-1", "label-1", "sample-1", "sample-4", "sample-16")
COPY_CURVE_BUDGETS = (100, 1000, 10000)
STORED_NAME = "stored default"
FORENSIC_COPIES = 3  # "Was it copied?": three copies, each with its own independent control
CHAT_CURVE_BUDGETS = (100, 300, 1000)  # "Copy a chatbot": the budget curve's default exchanges
DEFENCE_IMAGES, DEFENCE_REPEATS = 1000, 4  # "Defences": the copier's images, the adaptive copier's asks


def copy_curve_configs(**fields) -> list:
    from models.experiments.extraction import curve_config  # torch-free at import for the pages
    return [curve_config(line.split("-")[0], int(line.split("-")[1]), n, forensics=False, **fields)
            for line in COPY_CURVE_LINES for n in COPY_CURVE_BUDGETS]


def chat_curve_configs(seeds: int = 1, modes=None, budgets=CHAT_CURVE_BUDGETS) -> list:
    """The chatbot page's budget curve: every way of answering at every budget, over seeds."""
    return [ChatCopyConfig(answers=mode, exchanges=int(n), seed=k)
            for k in range(seeds) for mode in (modes or CHAT_TOP_K) for n in sorted(budgets)]


def defence_configs(images: int, strength: float, repeats: int, teacher: str = "pretrained") -> list:
    """The Defences page's copiers: each way of answering asked once; the adaptive copier asking each
    image `repeats` times (plainly and with one-pixel shifts); and as many exchanges spent on new images."""
    from models.experiments.extraction import ANSWER_VARIANTS  # torch-free at import for the pages
    base = dict(queries=images, defence_strength=strength, teacher=teacher, forensics=False)
    repeated = [(a, d) for a, d in ANSWER_VARIANTS if d != "none" or a == "sample"]
    return ([ExtractConfig(answers=a, defence=d, **base) for a, d in ANSWER_VARIANTS]
            + [ExtractConfig(answers=a, defence=d, samples_per_image=repeats, **base) for a, d in repeated]
            + [ExtractConfig(answers=a, defence=d, samples_per_image=repeats, shift_repeats=True, **base)
               for a, d in repeated if d != "none"]
            + [ExtractConfig(**{**base, "queries": images * repeats}, answers=a, defence=d) for a, d in repeated])


def page_defaults() -> dict[str, list]:
    """Every page's default submission: page name -> configs, as the page's form sends them untouched."""
    return {
        "distill": [DistillConfig()],
        # the Distil page's feature section: soft targets and the teacher's conv2 features (FitNets hint)
        "distill_features": [DistillConfig(feature="hint", beta=DEFAULT_BETA)],
        "missing_digit": [MISSING_DIGIT_DEFAULTS],
        "copy_curve": copy_curve_configs(),
        "chat_copy": [ChatCopyConfig()],
        "sweep": SweepConfig().cells(),
        "paper_table": [HintonConfig()],
        "forensics": [ExtractConfig(seed=seed) for seed in range(FORENSIC_COPIES)],
        "chat_curve": chat_curve_configs(),
        "defences": defence_configs(DEFENCE_IMAGES, DEFAULT_NOISE, DEFENCE_REPEATS),
    }


@dataclasses.dataclass(frozen=True)
class StoredDefaults:
    """What the file holds: when and how it was made, and each page's finished runs."""

    command: str
    made: str
    dataset: dict
    runs: dict[str, list[Run]]
    picture: dict | None = None

    def describe(self, page: str = "") -> str:
        """One line a page puts beside a stored result: the data it was measured on (the plays for the
        chat pages, MNIST for every other)."""
        if page in TEXT_PAGES:
            return f"measured on the shipped Shakespeare plays on {self.made} by `{self.command}`"
        images = self.dataset.get("train_size")
        data = f"{self.dataset.get('name', 'MNIST')}, {images:,} training images" if images else "MNIST"
        return f"measured on {data} on {self.made} by `{self.command}`"


TEXT_PAGES = ("chat_copy", "chat_curve")  # stored results measured on the plays, not MNIST


def _as_run(number: int, kind: str, config: dict, result: dict) -> Run:
    return Run(id=-number, kind=kind, name=STORED_NAME, group="", status="done", config=config_of(kind, config),
               progress=Progress(), result=result_of(kind, result), error="", created=0.0)


def stored_defaults() -> StoredDefaults | None:
    """The shipped file ($DISTILL_STORED_DEFAULTS names another, as the tests do), or None when it is
    missing or unreadable: a page then shows no stored result and still trains live."""
    return read_stored_defaults(Path(os.environ.get("DISTILL_STORED_DEFAULTS") or STORED_DEFAULTS))


@functools.cache
def read_stored_defaults(path: Path) -> StoredDefaults | None:
    try:
        data = json.loads(path.read_text())
        number = iter(range(1, 10_000))
        runs = {page: [_as_run(next(number), r["kind"], r["config"], r["result"]) for r in rows]
                for page, rows in data["runs"].items()}
        return StoredDefaults(data["command"], data["made"], data["dataset"], runs, data.get("picture"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def stored_runs(page: str) -> list[Run]:
    """That page's stored default runs (empty when none are shipped)."""
    stored = stored_defaults()
    return stored.runs.get(page, []) if stored else []


def record(pages: dict[str, list], run_all, dataset_summary: dict, picture: dict | None) -> dict:
    """The file's contents: `run_all(configs)` returns the finished runs of one page's configs."""
    runs = {page: [{"kind": kind_of(run.config), "config": dataclasses.asdict(run.config),
                    "result": run.result.to_json()} for run in run_all(configs)]
            for page, configs in pages.items()}
    return {"command": COMMAND, "made": time.strftime("%Y-%m-%d"), "dataset": dataset_summary,
            "picture": picture, "runs": runs}
