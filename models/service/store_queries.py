"""Reading runs back: one run, a filtered list, what a waiting page polls, the timings the budget
learns from and the marks Compare caches on."""
from __future__ import annotations

import json

from models.base.errors import StoreError
from models.base.results import JsonRecord, Progress
from models.service.kinds import config_of, result_of
from models.service.schema import ACTIVE, Run


class RunQueries:
    """Reads of the runs table (mixed into RunStore, which supplies _read and mark_orphans)."""

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
