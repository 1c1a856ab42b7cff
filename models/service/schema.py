"""What a run is in the store: the row as pages read it (`Run`), the tables, how older stores are
brought up to date, and what a SQLite failure means in one sentence."""
from __future__ import annotations

import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from models.base.errors import StoreError
from models.base.results import JsonRecord, Progress

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled", "interrupted")

@dataclass(frozen=True)
class Run:
    id: int
    kind: str
    name: str
    group: str
    status: str
    config: object  # the typed config of its kind (models/service/kinds.py)
    progress: Progress
    result: JsonRecord | None  # the result type of its kind (models/base/results.py)
    error: str
    created: float
    owner: str = ""  # the browser session that submitted it ('' for the CLI)
    archived: bool = False
    started: float | None = None
    worker_pid: int | None = None  # the process training it, once started
    worker: str = ""  # where it trained: "host pid N" here, a worker address on a cluster
    device: str = ""  # cpu, cuda, mps

    @property
    def elapsed(self) -> float:
        """Seconds since a worker started it (0 while queued)."""
        return time.time() - self.started if self.started else 0.0

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE


SCHEMA_VERSION = 5  # 2: heartbeats and servers; 3: which worker and device trained a run; 4: guesses;
# 5: weights in their own table
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    group_id TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    archived INTEGER NOT NULL DEFAULT 0,
    started REAL,
    worker_pid INTEGER,
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    progress TEXT NOT NULL DEFAULT '{}',
    result TEXT,
    weights BLOB,  -- unused since version 5 (the weights table); kept so older code can still open the file
    error TEXT NOT NULL DEFAULT '',
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    owner_pid INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS servers (id TEXT PRIMARY KEY, heartbeat REAL NOT NULL, host TEXT NOT NULL DEFAULT '');
-- A student's weights (about 0.7 MB for mlp-100 and its twin) live apart from its row. Inside the
-- row they sat before `updated`, `heartbeat` and `server`, so every read of those columns walked the
-- blob's overflow pages: the room's change check read the whole file (50 ms at 300 runs, growing).
CREATE TABLE IF NOT EXISTS weights (run_id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS guesses (run_id INTEGER PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL,
                                    owner TEXT NOT NULL DEFAULT '', created REAL NOT NULL);
"""
# Columns added since the first version; an older store gets them with these defaults.
ADDED_COLUMNS = {"owner": "TEXT NOT NULL DEFAULT ''", "archived": "INTEGER NOT NULL DEFAULT 0", "started": "REAL",
                 "worker_pid": "INTEGER", "server": "TEXT NOT NULL DEFAULT ''", "heartbeat": "REAL",
                 "worker": "TEXT NOT NULL DEFAULT ''", "device": "TEXT NOT NULL DEFAULT ''"}
# Stores written before runs had a group column: add it, and move the two old ways of grouping
# (a sweep id inside a sweep cell's config, a "curve-" name on extractions) into it.
MIGRATE_GROUPS = """
ALTER TABLE runs ADD COLUMN group_id TEXT NOT NULL DEFAULT '';
UPDATE runs SET group_id = COALESCE(json_extract(config, '$.sweep_id'), '') WHERE kind = 'sweep_cell';
UPDATE runs SET group_id = name, name = '' WHERE kind = 'extract' AND name LIKE 'curve-%';
"""
# Stores written before version 5 kept the weights in the runs row: move them to their table.
MIGRATE_WEIGHTS = """
INSERT OR IGNORE INTO weights (run_id, data) SELECT id, weights FROM runs WHERE weights IS NOT NULL;
UPDATE runs SET weights = NULL WHERE weights IS NOT NULL;
"""



FULL_BELOW_BYTES = 1 << 20  # a write that fails with less than this free is a full disk


def disk_is_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < FULL_BELOW_BYTES
    except OSError:
        return False


def full_disk_sentence(name: str) -> str:
    return (f"the disk holding the run store {name} is full, so new runs cannot be saved; free disk space "
            "(a run that finishes meanwhile waits in memory until it can be written)")


def explain(error: sqlite3.Error, path: Path) -> StoreError:
    """One sentence a visitor or an operator can act on, naming the file but no server path."""
    text, name = str(error).lower(), path.name
    if "full" in text or ("i/o" in text and disk_is_full(path)):  # SQLite says "disk I/O error" for a full WAL
        return StoreError(full_disk_sentence(name))
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the run store {name} is read-only, so new runs cannot be saved (finished ones can "
                          "still be browsed); fix the permissions of the file and its folder", read_only=True)
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(f"the run store {name} is damaged or not a SQLite database; move it aside (the lab "
                          "then starts a fresh one) and restart")
    if "unable to open" in text:
        return StoreError(f"the run store {name} cannot be opened; check that the state folder exists and is "
                          "readable ($DISTILL_STATE)")
    if "locked" in text or "busy" in text:
        return StoreError(f"the run store {name} is locked by another program; close it and try again")
    return StoreError(f"the run store {name} failed ({type(error).__name__}: {error})")
