"""Finished and running work, kept in one SQLite file under the state folder.

Every run (teacher training, distillation, ...) is one row: its kind, config, status, the latest
progress record and the result; the student's weights sit in a table of their own, keyed by the
run. Workers write, pages read; a reload, a second tab or a server restart loses nothing finished.

Liveness is by heartbeat, not by process id (a second server in another container sees other
PIDs): the server that queued a run beats in the `servers` table, the worker training it beats on
the run's row. A queued or running run counts as interrupted only when both have gone quiet. A run
that ended (cancelled, failed, interrupted) never turns *done* later, and a *done* run carries no
error text.

A store that cannot be used (damaged, read-only, a missing folder) raises StoreError with one plain
sentence; a read-only store still opens for reading.
"""
from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import time
import uuid
from contextlib import closing, contextmanager
from pathlib import Path

from models.base.errors import StoreError
from models.service.names import clean_name
from models.base.paths import state_dir
from models.base.results import JsonRecord, Progress
from models.service.kinds import config_of, result_of
from models.service.schema import (  # noqa: F401  (Run, ACTIVE and FINISHED are read from here)
    ACTIVE,
    ADDED_COLUMNS,
    FINISHED,
    MIGRATE_GROUPS,
    MIGRATE_WEIGHTS,
    SCHEMA,
    SCHEMA_VERSION,
    Run,
    disk_is_full,
    explain,
    full_disk_sentence,
)


def default_path() -> Path:
    return state_dir() / "lab.sqlite"


def heartbeat_seconds() -> float:
    """How often servers and workers beat ($DISTILL_HEARTBEAT_S; tests make it short)."""
    return float(os.environ.get("DISTILL_HEARTBEAT_S", 2.0))


def stale_after() -> float:
    """Silence longer than this means the process is gone (several missed beats, not one slow one)."""
    return 7.5 * heartbeat_seconds()


# This process's identity as a server: unique across machines, containers and PID namespaces.
SERVER_ID = f"{socket.gethostname()}-{uuid.uuid4().hex[:12]}"
# Servers whose pool lives in this process (scheduler.JobPool adds and removes itself). Their runs are never orphans here, however long their beats
# went unwritten: after a store outage the first page read must not end every run of a live pool.
BEATING: set[str] = set()


def _schema_into(db: sqlite3.Connection) -> None:
    """The current schema in this database: created, or an older store's brought up to date."""
    db.execute("PRAGMA journal_mode=WAL")  # readers never block the writing worker
    db.executescript(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    if "group_id" not in columns:
        db.executescript(MIGRATE_GROUPS)
    for column, kind in ADDED_COLUMNS.items():
        if column not in columns:
            db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
    if db.execute("PRAGMA user_version").fetchone()[0] < 5:
        db.executescript(MIGRATE_WEIGHTS)
    # Always a real write (the statements above write nothing to an up-to-date store), so a
    # read-only file is found here rather than at a visitor's first submit.
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _create_whole(path: Path) -> None:
    """A new store, built beside its place and linked into it in one step. SQLite creates a file
    empty and writes it afterwards, so a second server opening the store in that moment (front.py
    starts them side by side) took it for an emptied store and said so to its visitors all day.
    Where another server's store got there first, or this filesystem has no hard links, nothing is
    done here and the store is opened (or created) in place as before."""
    aside = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with closing(sqlite3.connect(aside)) as db, db:
            _schema_into(db)
        os.link(aside, path)
    except (OSError, sqlite3.Error):
        pass
    finally:
        for leftover in (aside, aside.with_name(aside.name + "-wal"), aside.with_name(aside.name + "-shm")):
            try:
                leftover.unlink(missing_ok=True)
            except OSError:
                pass


class RunStore:
    def __init__(self, path: Path | str | None = None, orphan_check_every_s: float = 0.0):
        """orphan_check_every_s: how often reads look for orphans (0: on every read). The pages'
        shared store asks at most once a second: a room of a hundred polling visitors made it a third
        of the server's reading, for a check whose answer changes on a scale of minutes."""
        self.orphan_check_every_s = orphan_check_every_s
        self._orphans_checked = float("-inf")
        self.path = Path(path) if path else default_path()
        self.name = self.path.name
        self.read_only = False
        self.weights_in_rows = False  # a read-only store from before schema 5 cannot move them out
        self.notice = ""  # said on every page while it holds: a fresh start, or a read-only store
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"the state folder for {self.name} cannot be created ({error.strerror}); set "
                             "$DISTILL_STATE to a writable folder") from None
        if self.path.is_dir():
            raise StoreError(f"the run store {self.name} is a folder, not a file; move it aside and restart")
        if not self.path.exists():
            _create_whole(self.path)
        was_empty = self.path.is_file() and self.path.stat().st_size == 0
        try:
            self._create_schema()
        except StoreError as error:
            readable = self.path.is_file() and os.access(self.path, os.R_OK)
            if not (error.read_only or (readable and "cannot be opened" in str(error))):
                raise
            self.read_only = True  # a read-only file, or a readable one on a read-only filesystem
            self._select("LIMIT 1", ())  # a read-only store must at least be readable
            self.weights_in_rows = not self._read("SELECT 1 FROM sqlite_master WHERE name='weights'")
            self.notice = str(error) if error.read_only else str(explain(sqlite3.OperationalError("readonly"),
                                                                         self.path))
        if was_empty:
            self.notice = (f"the run store {self.name} was an empty file (0 bytes), so a fresh store was started "
                           "in it; no runs were lost because it held none")

    @property
    def disk_notice(self) -> str:
        """A sentence while the disk holding the store is full (pages say it; one stat call)."""
        if self.read_only or not disk_is_full(self.path):
            return ""
        return full_disk_sentence(self.name)

    def _create_schema(self) -> None:
        with self._session(write=True) as db:
            _schema_into(db)

    @contextmanager
    def _session(self, write: bool = False):
        """A connection whose failures come out as StoreError; a write session commits at the end."""
        if write and self.read_only:
            raise StoreError(f"the run store {self.name} is read-only, so new runs cannot be saved (finished ones "
                             "can still be browsed); fix the permissions of the file and its folder", read_only=True)
        try:
            if self.read_only:  # immutable: no -shm or -wal is needed, which a read-only folder could not hold
                db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, timeout=30)
            else:
                db = sqlite3.connect(self.path, timeout=30)
            db.row_factory = sqlite3.Row
            with closing(db):
                if write:
                    with db:
                        yield db
                else:
                    yield db
        except sqlite3.Error as error:
            raise explain(error, self.path) from None

    def _write(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        with self._session(write=True) as db:
            return db.execute(sql, params)

    def _read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._session() as db:
            return db.execute(sql, params).fetchall()

    # -- a run's life ---------------------------------------------------------------------------
    def create(self, kind: str, config: dict, name: str = "", group: str = "", owner: str = "",
               owner_pid: int | None = None, server: str = SERVER_ID) -> int:
        now = time.time()
        return self._write(
            "INSERT INTO runs (kind, name, group_id, owner, status, config, owner_pid, server, heartbeat, created, "
            "updated) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (kind, clean_name(name), group, owner, "queued", json.dumps(config), owner_pid or os.getpid(), server,
             now, now, now)).lastrowid

    def end(self, run_id: int, status: str, error: str = "") -> bool:
        """Move a queued or running run to an ending status. A run that already ended keeps its
        status and reason (a late worker cannot overwrite 'interrupted'). Returns whether it moved."""
        assert status in FINISHED and status != "done", status
        return self._write(f"UPDATE runs SET status=?, error=?, updated=? WHERE id=? AND status IN {ACTIVE}",
                           (status, error, time.time(), run_id)).rowcount == 1

    def claim(self, run_id: int) -> bool:
        """A worker starts a queued run (False: it was cancelled or interrupted meanwhile, leave it).
        The row keeps its server: a worker that dies is the pool's to report (as failed)."""
        now = time.time()
        return self._write("UPDATE runs SET status='running', worker_pid=?, started=?, heartbeat=?, updated=? "
                           "WHERE id=? AND status='queued'", (os.getpid(), now, now, now, run_id)).rowcount == 1

    def set_worker(self, run_id: int, worker: str, device: str) -> None:
        """Which worker (host and process, or cluster address) and device trained this run."""
        self._write("UPDATE runs SET worker=?, device=? WHERE id=?", (worker, device, run_id))

    def beat_running(self, server: str = SERVER_ID) -> None:
        """A cluster's runs are watched by the server that sent them: it beats for them while it lives."""
        if not self.read_only:
            self._write("UPDATE runs SET heartbeat=? WHERE server=? AND status='running'", (time.time(), server))

    def beat(self, run_id: int) -> bool:
        """The worker is alive and still working on this run; False once the run ended elsewhere."""
        return self._write("UPDATE runs SET heartbeat=? WHERE id=? AND status='running'",
                           (time.time(), run_id)).rowcount == 1

    def beat_server(self, server: str = SERVER_ID) -> None:
        if self.read_only:  # a read-only store queues nothing, so there is nothing to keep alive
            return
        self._write("INSERT INTO servers (id, heartbeat, host) VALUES (?,?,?) ON CONFLICT(id) DO UPDATE SET "
                    "heartbeat=excluded.heartbeat", (server, time.time(), socket.gethostname()))

    def forget_server(self, server: str = SERVER_ID) -> None:
        if self.read_only:
            return
        self._write("DELETE FROM servers WHERE id=?", (server,))

    def set_progress(self, run_id: int, progress: Progress) -> None:
        now = time.time()
        self._write("UPDATE runs SET progress=?, heartbeat=?, updated=? WHERE id=? AND status='running'",
                    (json.dumps(progress.to_json()), now, now, run_id))

    def finish(self, run_id: int, result: JsonRecord, blob: bytes | None = None) -> bool:
        """Store a running run's result and its weights (torch.save bytes, runner.weights_bytes).
        False when the run had already ended (cancelled, interrupted)."""
        with self._session(write=True) as db:  # one transaction: a done run always has its weights
            if db.execute("UPDATE runs SET status='done', error='', result=?, updated=? WHERE id=? AND status='running'",
                          (json.dumps(result.to_json()), time.time(), run_id)).rowcount != 1:
                return False
            if blob is not None:
                db.execute("INSERT OR REPLACE INTO weights (run_id, data) VALUES (?, ?)", (run_id, blob))
            return True

    def request_cancel(self, run_id: int) -> None:
        self._write("UPDATE runs SET cancel_requested=1 WHERE id=?", (run_id,))

    def cancel_requested(self, run_id: int) -> bool:
        row = self._read("SELECT cancel_requested FROM runs WHERE id=?", (run_id,))
        return bool(row and row[0][0])

    def weights(self, run_id: int) -> dict | None:
        row = self._read("SELECT weights FROM runs WHERE id=? AND weights IS NOT NULL" if self.weights_in_rows
                         else "SELECT data FROM weights WHERE run_id=?", (run_id,))
        if not row:
            return None
        import torch
        return torch.load(io.BytesIO(row[0][0]), map_location="cpu", weights_only=True)

    def has_weights(self, run_id: int) -> bool:
        return run_id in self.with_weights([run_id])

    def with_weights(self, run_ids: list[int]) -> set[int]:
        """Which of these runs stored weights, in one read (pages ask on every rerun)."""
        if not run_ids:
            return set()
        chosen = "id FROM runs WHERE weights IS NOT NULL AND id" if self.weights_in_rows else "run_id FROM weights WHERE run_id"
        rows = self._read(f"SELECT {chosen} IN ({','.join('?' * len(run_ids))})",
                          tuple(run_ids))
        return {row[0] for row in rows}

    def mark_orphans(self) -> int:
        """Queued or running runs whose worker and server have both gone quiet were interrupted.
        Every page read asks, so the check is a read; only a real orphan costs a write."""
        if self.read_only or time.monotonic() - self._orphans_checked < self.orphan_check_every_s:
            return 0
        self._orphans_checked = time.monotonic()
        now = time.time()
        quiet = now - stale_after()
        ours = tuple(BEATING)
        our_places = ",".join("?" * len(ours)) or "''"
        orphans = [row[0] for row in self._read(
            "SELECT id FROM runs WHERE status IN ('queued','running') AND COALESCE(heartbeat, updated) < ? "
            "AND NOT EXISTS (SELECT 1 FROM servers WHERE servers.id = runs.server AND servers.heartbeat >= ?) "
            f"AND COALESCE(server, '') NOT IN ({our_places})",
            (quiet, quiet, *ours))]
        if not orphans:
            return 0
        return self._write(
            f"UPDATE runs SET status='interrupted', error=?, updated=? WHERE id IN ({','.join('?' * len(orphans))}) "
            "AND status IN ('queued','running')",
            ("the server stopped before this run finished", now, *orphans)).rowcount

    # -- reading --------------------------------------------------------------------------------
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
        for column, value in (("kind", kind), ("status", status), ("group_id", group)):
            if value:
                clauses.append(f"{column}=?"), params.append(value)
        if owner is not None:  # "" is an owner too: the command line's runs
            clauses.append("owner=?"), params.append(owner)
        if active:
            clauses.append("status IN ('queued','running')")
        if archived is not None:
            clauses.append("archived=?"), params.append(int(archived))
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self._select(f"{where} ORDER BY id DESC LIMIT ?", (*params, limit))

    def count_running(self) -> int:
        return self._read("SELECT COUNT(*) FROM runs WHERE status='running'")[0][0]

    def peek(self, run_id: int) -> tuple[str, float] | None:
        """(status, last update time) from the row alone: what a waiting page polls."""
        rows = self._read("SELECT status, updated FROM runs WHERE id=?", (run_id,))
        return (rows[0][0], rows[0][1]) if rows else None

    def peek_many(self, run_ids: list[int]) -> dict[int, tuple[str, float]]:
        """run id -> (status, last update time), without reading progress or results."""
        placeholders = ",".join("?" * len(run_ids))
        rows = self._read(f"SELECT id, status, updated FROM runs WHERE id IN ({placeholders})", tuple(run_ids))
        return {row[0]: (row[1], row[2]) for row in rows}

    def recent_timings(self, recent: int = 20) -> list[tuple[str, dict, float]]:
        """(kind, config values, wall seconds) of each kind's last finished runs here: what the cost
        estimates learn this machine's speed from (models/service/budget.py)."""
        rows = self._read("SELECT kind, config, updated - started FROM runs WHERE status='done' AND started IS NOT NULL "
                          "ORDER BY id DESC LIMIT 500")
        found, per_kind = [], {}
        for kind, config, seconds in rows:
            per_kind[kind] = per_kind.get(kind, 0) + 1
            if per_kind[kind] <= recent:
                found.append((kind, json.loads(config), seconds))
        return found

    def archive(self, kind: str) -> int:
        """Take every finished run of this kind off the leaderboard (kept in the database and exports)."""
        return self._write("UPDATE runs SET archived=1 WHERE kind=? AND status NOT IN ('queued','running')",
                           (kind,)).rowcount

    def settings(self) -> dict[str, str]:
        """Every room setting in one read (pages ask on every rerun)."""
        return {row[0]: row[1] for row in self._read("SELECT key, value FROM settings")}

    def set_setting(self, key: str, value: str) -> None:
        self._write("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (key, value))

    def highest_seed(self, kind: str) -> int:
        """The highest seed among this kind's runs (-1 when none): read in SQL, not by loading them all."""
        rows = self._read("SELECT MAX(CAST(json_extract(config, '$.seed') AS INTEGER)) FROM runs WHERE kind=?", (kind,))
        return -1 if rows[0][0] is None else int(rows[0][0])

    def change_mark(self, kind: str) -> tuple:
        """Changes whenever a run of this kind is added, starts, ends or is archived: a cache key for
        pages that show every run (Compare), which a room reloads far more often than runs change. A
        running run's progress ticks (every 2 s each) leave it alone: Compare shows no progress, and a
        busy room's ticks made every visitor's Compare rebuild its charts."""
        row = self._read("SELECT COUNT(*), MAX(id), SUM(archived), SUM(status='queued'), SUM(status='running'), "
                         f"MAX(CASE WHEN status IN {ACTIVE} THEN NULL ELSE updated END) FROM runs WHERE kind=?",
                         (kind,))[0]
        return tuple(row)

    # -- the room's guesses (models/service/guesses.py) -------------------------------------------
    def add_guess(self, run_id: int, question: str, answer: str, owner: str = "") -> None:
        """A visitor's guess, kept with the run it was made for (one per run; a second replaces it)."""
        self._write("INSERT INTO guesses (run_id, question, answer, owner, created) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(run_id) DO UPDATE SET answer=excluded.answer", (run_id, question, answer, owner,
                                                                                time.time()))

    def guesses(self, question: str | None = None) -> dict[int, str]:
        """Run id -> the answer guessed for it (of one question, or all)."""
        rows = self._read("SELECT run_id, answer FROM guesses" + (" WHERE question=?" if question else ""),
                          (question,) if question else ())
        return {row[0]: row[1] for row in rows}

    def group(self, group: str) -> list[Run]:
        """The runs of one group in the order they were submitted."""
        return list(reversed(self.list(group=group))) if group else []

    def latest_group(self, kind: str, prefix: str = "") -> str | None:
        """The newest group of runs of this kind (whose id starts with prefix), if any."""
        rows = self._read("SELECT group_id FROM runs WHERE kind=? AND group_id LIKE ? AND group_id != '' "
                          "ORDER BY id DESC LIMIT 1", (kind, prefix + "%"))
        return rows[0][0] if rows else None

    def _select(self, tail: str, params: tuple) -> list[Run]:
        rows = self._read(
            "SELECT id, kind, name, group_id, status, config, progress, result, error, created, owner, archived, "
            "started, worker_pid, worker, device FROM runs " + tail, params)
        try:
            return [Run(id=r["id"], kind=r["kind"], name=r["name"], group=r["group_id"], status=r["status"],
                        config=config_of(r["kind"], json.loads(r["config"])), progress=Progress.from_json(json.loads(r["progress"])),
                        result=_result(r["kind"], r["result"]), error=r["error"], created=r["created"],
                        owner=r["owner"], archived=bool(r["archived"]), started=r["started"],
                        worker_pid=r["worker_pid"], worker=r["worker"], device=r["device"]) for r in rows]
        except (ValueError, TypeError, KeyError) as error:  # a row edited by hand or by a stranger's program
            raise StoreError(f"the run store {self.name} holds a row this version cannot read "
                             f"({type(error).__name__}); move the file aside and restart") from None


def _result(kind: str, text: str | None) -> JsonRecord | None:
    return result_of(kind, json.loads(text)) if text else None
