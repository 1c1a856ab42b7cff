"""Finished and running work, kept in one SQLite file under the state folder.

Every run (teacher training, distillation, ...) is one row: its kind, config, status, the latest
progress record, the result and the student's weights. Workers write, pages read; a reload, a
second tab or a server restart loses nothing finished. A row left 'queued' or 'running' by a
process that no longer exists reads as 'interrupted', never silently gone.
"""
from __future__ import annotations

import io
import json
import os
import sqlite3
import statistics
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import torch

from models.paths import state_dir
from models.results import RESULT_TYPES, JsonRecord, Progress

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled", "interrupted")
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
    weights BLOB,
    error TEXT NOT NULL DEFAULT '',
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    owner_pid INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Columns added since the first version; an older store gets them with these defaults.
ADDED_COLUMNS = {"owner": "TEXT NOT NULL DEFAULT ''", "archived": "INTEGER NOT NULL DEFAULT 0", "started": "REAL",
                 "worker_pid": "INTEGER"}
# Stores written before runs had a group column: add it, and move the two old ways of grouping
# (a sweep id inside a sweep cell's config, a "curve-" name on extractions) into it.
MIGRATE_GROUPS = """
ALTER TABLE runs ADD COLUMN group_id TEXT NOT NULL DEFAULT '';
UPDATE runs SET group_id = COALESCE(json_extract(config, '$.sweep_id'), '') WHERE kind = 'sweep_cell';
UPDATE runs SET group_id = name, name = '' WHERE kind = 'extract' AND name LIKE 'curve-%';
"""


@dataclass(frozen=True)
class Run:
    id: int
    kind: str
    name: str
    group: str
    status: str
    config: dict
    progress: Progress
    result: JsonRecord | None  # the result type of its kind (models/results.py)
    error: str
    created: float
    owner: str = ""  # the browser session that submitted it ('' for the CLI)
    archived: bool = False
    started: float | None = None
    worker_pid: int | None = None  # the process training it, once started

    @property
    def elapsed(self) -> float:
        """Seconds since a worker started it (0 while queued)."""
        return time.time() - self.started if self.started else 0.0

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE


def default_path() -> Path:
    return state_dir() / "lab.sqlite"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunStore:
    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")  # readers never block the writing worker
            db.executescript(SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
            if "group_id" not in columns:
                db.executescript(MIGRATE_GROUPS)
            for column, kind in ADDED_COLUMNS.items():
                if column not in columns:
                    db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        return db

    def _write(self, sql: str, params: tuple = ()) -> int:
        with closing(self._connect()) as db, db:
            return db.execute(sql, params).lastrowid

    def create(self, kind: str, config: dict, name: str = "", group: str = "", owner: str = "",
               owner_pid: int | None = None) -> int:
        now = time.time()
        return self._write(
            "INSERT INTO runs (kind, name, group_id, owner, status, config, owner_pid, created, updated) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (kind, name.strip()[:80], group, owner, "queued", json.dumps(config), owner_pid or os.getpid(), now, now))

    def set_status(self, run_id: int, status: str, error: str = "") -> None:
        self._write("UPDATE runs SET status=?, error=?, updated=? WHERE id=?",
                    (status, error, time.time(), run_id))

    def claim(self, run_id: int) -> None:
        """A worker starts the run. The row stays owned by the process that submitted it: a worker
        that dies is the pool's to report (as failed), a server that dies leaves its runs interrupted."""
        now = time.time()
        self._write("UPDATE runs SET status='running', worker_pid=?, started=?, updated=? WHERE id=?",
                    (os.getpid(), now, now, run_id))

    def set_progress(self, run_id: int, progress: Progress) -> None:
        self._write("UPDATE runs SET progress=?, updated=? WHERE id=?",
                    (json.dumps(progress.to_json()), time.time(), run_id))

    def finish(self, run_id: int, result: JsonRecord, weights: dict | None = None) -> None:
        blob = None
        if weights is not None:
            buffer = io.BytesIO()
            torch.save(weights, buffer)
            blob = buffer.getvalue()
        self._write("UPDATE runs SET status='done', result=?, weights=?, updated=? WHERE id=?",
                    (json.dumps(result.to_json()), blob, time.time(), run_id))

    def request_cancel(self, run_id: int) -> None:
        self._write("UPDATE runs SET cancel_requested=1 WHERE id=?", (run_id,))

    def cancel_requested(self, run_id: int) -> bool:
        with closing(self._connect()) as db:
            row = db.execute("SELECT cancel_requested FROM runs WHERE id=?", (run_id,)).fetchone()
        return bool(row and row[0])

    def weights(self, run_id: int) -> dict | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT weights FROM runs WHERE id=?", (run_id,)).fetchone()
        if not row or row[0] is None:
            return None
        return torch.load(io.BytesIO(row[0]), map_location="cpu", weights_only=True)

    def mark_orphans(self) -> None:
        """Queued or running rows whose owning process is gone were interrupted."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT id, owner_pid FROM runs WHERE status IN ('queued','running')").fetchall()
        for row in rows:
            if not _pid_alive(row["owner_pid"]):
                self.set_status(row["id"], "interrupted", "the server stopped before this run finished")

    def get(self, run_id: int) -> Run | None:
        runs = self.get_many([run_id])
        return runs[0] if runs else None

    def get_many(self, run_ids: list[int]) -> list[Run]:
        """The given runs in the given order (missing ones left out), with one orphan check."""
        self.mark_orphans()
        placeholders = ",".join("?" * len(run_ids))
        found = {run.id: run for run in self._select(f"WHERE id IN ({placeholders})", tuple(run_ids))}
        return [found[i] for i in run_ids if i in found]

    def list(self, kind: str | None = None, status: str | None = None, group: str | None = None,
             owner: str | None = None, active: bool = False, archived: bool | None = None,
             limit: int = 500) -> list[Run]:
        """Newest first. active: only queued or running; archived: None = both."""
        self.mark_orphans()
        clauses, params = [], []
        for column, value in (("kind", kind), ("status", status), ("group_id", group), ("owner", owner)):
            if value:
                clauses.append(f"{column}=?"), params.append(value)
        if active:
            clauses.append("status IN ('queued','running')")
        if archived is not None:
            clauses.append("archived=?"), params.append(int(archived))
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self._select(f"{where} ORDER BY id DESC LIMIT ?", (*params, limit))

    def count_running(self) -> int:
        with closing(self._connect()) as db:
            return db.execute("SELECT COUNT(*) FROM runs WHERE status='running'").fetchone()[0]

    def peek(self, run_id: int) -> tuple[str, float] | None:
        """(status, last update time) from the row alone: what a waiting page polls."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT status, updated FROM runs WHERE id=?", (run_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def peek_many(self, run_ids: list[int]) -> dict[int, tuple[str, float]]:
        """run id -> (status, last update time), without reading progress or results."""
        placeholders = ",".join("?" * len(run_ids))
        with closing(self._connect()) as db:
            rows = db.execute(f"SELECT id, status, updated FROM runs WHERE id IN ({placeholders})",
                              tuple(run_ids)).fetchall()
        return {row[0]: (row[1], row[2]) for row in rows}

    def typical_seconds(self, recent: int = 20) -> dict[str, float]:
        """kind -> median wall time of its last finished runs here: the basis of queue wait estimates."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT kind, updated - started FROM runs WHERE status='done' AND started IS NOT NULL "
                              "ORDER BY id DESC LIMIT 500").fetchall()
        by_kind: dict[str, list[float]] = {}
        for kind, seconds in rows:
            if len(by_kind.setdefault(kind, [])) < recent:
                by_kind[kind].append(seconds)
        return {kind: statistics.median(values) for kind, values in by_kind.items()}

    def archive(self, kind: str) -> int:
        """Take every finished run of this kind off the leaderboard (kept in the database and exports)."""
        with closing(self._connect()) as db, db:
            return db.execute("UPDATE runs SET archived=1 WHERE kind=? AND status NOT IN ('queued','running')",
                              (kind,)).rowcount

    def settings(self) -> dict[str, str]:
        """Every room setting in one read (pages ask on every rerun)."""
        with closing(self._connect()) as db:
            return dict(db.execute("SELECT key, value FROM settings").fetchall())

    def set_setting(self, key: str, value: str) -> None:
        self._write("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (key, value))

    def group(self, group: str) -> list[Run]:
        """The runs of one group in the order they were submitted."""
        return list(reversed(self.list(group=group))) if group else []

    def latest_group(self, kind: str, prefix: str = "") -> str | None:
        """The newest group of runs of this kind (whose id starts with prefix), if any."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT group_id FROM runs WHERE kind=? AND group_id LIKE ? AND group_id != '' "
                             "ORDER BY id DESC LIMIT 1", (kind, prefix + "%")).fetchone()
        return row[0] if row else None

    def _select(self, tail: str, params: tuple) -> list[Run]:
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT id, kind, name, group_id, status, config, progress, result, error, created, owner, archived, "
                "started, worker_pid FROM runs " + tail, params).fetchall()
        return [Run(id=r["id"], kind=r["kind"], name=r["name"], group=r["group_id"], status=r["status"],
                    config=json.loads(r["config"]), progress=Progress.from_json(json.loads(r["progress"])),
                    result=_result(r["kind"], r["result"]), error=r["error"], created=r["created"],
                    owner=r["owner"], archived=bool(r["archived"]), started=r["started"],
                    worker_pid=r["worker_pid"]) for r in rows]


def _result(kind: str, text: str | None) -> JsonRecord | None:
    if not text:
        return None
    result_type = RESULT_TYPES.get(kind)
    return result_type.from_json(json.loads(text)) if result_type else None
