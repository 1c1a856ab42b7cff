"""What the room keeps besides runs: its settings, the leaderboard's archive and visitors' guesses."""
from __future__ import annotations

import time


class RoomRecords:
    """Settings, archive and guesses (mixed into RunStore, which supplies _read and _write)."""

    def archive(self, kind: str | None = None) -> int:
        """Take every finished run of this kind (None: of every kind) off the leaderboard and Compare
        (kept in the database and exports)."""
        if kind is None:
            return self._write("UPDATE runs SET archived=1 WHERE archived=0 AND status NOT IN ('queued','running')",
                               ()).rowcount
        return self._write("UPDATE runs SET archived=1 WHERE kind=? AND status NOT IN ('queued','running')",
                           (kind,)).rowcount

    def settings(self) -> dict[str, str]:
        """Every room setting in one read (pages ask on every rerun)."""
        return {row[0]: row[1] for row in self._read("SELECT key, value FROM settings")}

    def set_setting(self, key: str, value: str) -> None:
        self._write("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (key, value))

    def add_guess(self, run_id: int, question: str, answer: str, owner: str = "") -> bool:
        """A visitor's guess, kept with the run it was made for: one per visitor and question (a
        reload must not cast another on the room board), and one per run (a second replaces it).
        The command line's runs (owner "") are nobody's in particular. Returns whether it was kept."""
        return self._write(
            "INSERT INTO guesses (run_id, question, answer, owner, created) SELECT ?, ?, ?, ?, ? "
            "WHERE ? = '' OR NOT EXISTS (SELECT 1 FROM guesses WHERE owner=? AND question=? AND run_id != ?) "
            "ON CONFLICT(run_id) DO UPDATE SET answer=excluded.answer",
            (run_id, question, answer, owner, time.time(), owner, owner, question, run_id)).rowcount == 1

    def guesses(self, question: str | None = None) -> dict[int, str]:
        """Run id -> the answer guessed for it (of one question, or all)."""
        rows = self._read("SELECT run_id, answer FROM guesses" + (" WHERE question=?" if question else ""),
                          (question,) if question else ())
        return {row[0]: row[1] for row in rows}
