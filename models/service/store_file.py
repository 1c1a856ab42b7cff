"""The run store's file: where it lives, its schema created whole, and sessions whose failures come
out as one plain sentence (StoreError). A read-only or damaged file is told apart here."""
from __future__ import annotations

import os
import socket
import sqlite3
import uuid
from contextlib import closing, contextmanager
from pathlib import Path

from models.base.errors import StoreError
from models.base.paths import state_dir
from models.service.schema import (
    ADDED_COLUMNS,
    MIGRATE_GROUPS,
    MIGRATE_WEIGHTS,
    SCHEMA,
    SCHEMA_VERSION,
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


class StoreFile:
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
