"""A finished run's weights: torch.save bytes in a table of their own, read back only when asked."""
from __future__ import annotations

import io


class WeightBlobs:
    """The weights table (mixed into RunStore, which supplies _read)."""

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
