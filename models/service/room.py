"""The facilitator's settings for a workshop room: caps on everyone's runs and a pinned teacher."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from models.base.errors import ConfigError
from models.service.budget import DEFAULT_BUDGET_S


@dataclass(frozen=True)
class RoomLimits:
    """Caps a workshop facilitator sets for everyone's runs (0 = no cap), a pinned teacher, and the
    worker-seconds one visitor's submission may cost (models/service/budget.py; 0 = no budget)."""

    epochs: int = 0
    train_size: int = 0
    teacher: str = ""
    budget_s: int = DEFAULT_BUDGET_S

    def check(self, config) -> None:
        """Raise ConfigError naming the cap when a config exceeds it."""
        epochs = getattr(config, "epochs", None)
        if self.epochs and epochs is not None and epochs > self.epochs:
            raise ConfigError(f"the facilitator capped epochs at {self.epochs} for this room, got {epochs}")
        size = getattr(config, "train_size", getattr(config, "queries", None))
        if self.train_size and size is not None and (size == 0 or size > self.train_size):
            raise ConfigError(f"the facilitator capped training images at {self.train_size:,} for this room, "
                              f"got {'all' if size == 0 else f'{size:,}'}")


    def caps_sentence(self, fields: tuple[str, ...] = ("epochs", "train_size")) -> str | None:
        """The caps that bind a form with these fields, in the words a visitor reads above it."""
        said = []
        if self.epochs and "epochs" in fields:
            said.append(f"{self.epochs} epochs")
        if self.train_size and "train_size" in fields:
            said.append(f"{self.train_size:,} training images")
        if not said:
            return None
        return (f"Capped by the facilitator at {' and '.join(said)} for this room: the form starts inside the caps, "
                "and a run asks for no more.")

    def inside(self, config):
        """The config brought inside the caps, for fields a form does not show (a teacher trained on
        all images, train_size 0, trains on the cap's number instead); shown fields start inside."""
        import dataclasses
        changes = {}
        epochs = getattr(config, "epochs", None)
        if self.epochs and epochs is not None and epochs > self.epochs:
            changes["epochs"] = self.epochs
        size = getattr(config, "train_size", None)
        if self.train_size and size is not None and (size == 0 or size > self.train_size):
            changes["train_size"] = self.train_size
        return dataclasses.replace(config, **changes) if changes else config


def default_budget_s() -> int:
    """$DISTILL_BUDGET_S, for a server started without a facilitator; else DEFAULT_BUDGET_S."""
    try:
        return max(0, int(os.environ.get("DISTILL_BUDGET_S", DEFAULT_BUDGET_S)))
    except ValueError:
        return DEFAULT_BUDGET_S


LIMITS_TTL_S = 1.0  # every page run of every visitor asks; a facilitator's change reaches another server within a second
_read_at: dict[tuple, tuple[float, RoomLimits]] = {}


def room_limits(store) -> RoomLimits:
    """The room's limits, read from the store at most once a second per store (this server's own
    changes at once): in a room of a hundred, these reads were a tenth of the Distil page's time."""
    key = (str(store.path), os.environ.get("DISTILL_BUDGET_S"))
    now = time.monotonic()
    cached = _read_at.get(key)
    if cached and now - cached[0] < LIMITS_TTL_S:
        return cached[1]
    settings = store.settings()
    limits = RoomLimits(int(settings.get("cap_epochs", 0)), int(settings.get("cap_train_size", 0)),
                        settings.get("pinned_teacher", ""), int(settings.get("budget_s", default_budget_s())))
    _read_at[key] = (now, limits)
    return limits


def set_room_limits(store, limits: RoomLimits) -> None:
    _read_at.clear()
    store.set_setting("cap_epochs", str(limits.epochs))
    store.set_setting("cap_train_size", str(limits.train_size))
    store.set_setting("pinned_teacher", limits.teacher)
    store.set_setting("budget_s", str(limits.budget_s))
