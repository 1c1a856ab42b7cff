"""Where the lab writes: $DISTILL_STATE (default ./data, which git ignores).

Kept apart from $DISTILL_DATA, which may point at a read-only copy of MNIST.
"""
from __future__ import annotations

import os
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"  # models/assets
PRETRAINED = ASSETS / "teacher.pt"
CHAT_ASSETS = ASSETS / "chat"  # the chat corpus, teacher and independent model
PACE = ASSETS / "pace.json"  # this machine's training pace (python -m bench.pace --write)


def state_dir() -> Path:
    path = Path(os.environ.get("DISTILL_STATE", "data"))
    path.mkdir(parents=True, exist_ok=True)
    return path
