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

import json
import os
import socket
import time

from models.base.results import JsonRecord, Progress
from models.service.names import clean_name
from models.service.schema import ACTIVE, FINISHED, Run  # noqa: F401  (Run is read from here)
from models.service.store_blobs import WeightBlobs
from models.service.store_file import (  # noqa: F401  (read from here)
    BEATING,
    SERVER_ID,
    StoreFile,
    default_path,
    heartbeat_seconds,
    stale_after,
)
from models.service.store_queries import RunQueries
from models.service.store_room import RoomRecords


class RunStore(RunQueries, WeightBlobs, RoomRecords, StoreFile):
    """The store: a run's life (create, claim, beat, progress, finish, end, cancel, orphans) here;
    its file and sessions (store_file), reads (store_queries), weights (store_blobs) and the room's
    records (store_room) mixed in."""

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
