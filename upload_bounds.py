"""Bounds on what uploads may hold in the shared server's memory (serve.py installs them).

Streamlit keeps every uploaded file in memory until its session ends, and takes a PUT to
/_stcore/upload_file/{own session}/{any id} whether or not a widget asked for it: 200 uploads of
5 MB took a room's server from 1.6 to 2.5 GB, and a session lingers for reconnects after its tab
closes. The lab needs one picture at a time (Try your own digit). So each session keeps only its
newest MAX_FILES_PER_SESSION files, and the server as a whole at most MAX_HELD_BYTES: past that the
oldest files anywhere go first (a visitor's page reads its picture as soon as it arrives).
"""
from __future__ import annotations

import threading
from collections import OrderedDict

MAX_FILES_PER_SESSION = 2
MAX_HELD_BYTES = 64 * 1024 * 1024  # about a dozen maximum-size uploads (server.maxUploadSize = 5 MB)
EVICTED = {"files": 0}  # how many files the bounds removed, for the logs and the tests


def victims(order: "OrderedDict[tuple[str, str], int]", session_id: str, per_session: int,
            max_bytes: int) -> list[tuple[str, str]]:
    """Which held files to drop, oldest first: this session's beyond its newest `per_session`, then
    the oldest anywhere until the total fits `max_bytes`. `order` maps (session, file id) to its
    size, oldest first."""
    mine = [key for key in order if key[0] == session_id]
    drop = mine[:max(0, len(mine) - per_session)]
    held = sum(size for key, size in order.items() if key not in drop)
    for key, size in order.items():
        if held <= max_bytes:
            break
        if key not in drop:
            drop.append(key)
            held -= size
    return drop


def bound_uploads(per_session: int = MAX_FILES_PER_SESSION, max_bytes: int = MAX_HELD_BYTES) -> None:
    """Wrap Streamlit's in-memory upload store so every instance keeps within the bounds."""
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    if getattr(MemoryUploadedFileManager.add_file, "bounded", False):
        return
    add_file, remove_file, remove_session_files = (MemoryUploadedFileManager.add_file,
                                                   MemoryUploadedFileManager.remove_file,
                                                   MemoryUploadedFileManager.remove_session_files)
    order: OrderedDict[tuple[str, str], int] = OrderedDict()
    lock = threading.Lock()

    def bounded_add(self, session_id: str, file) -> None:
        add_file(self, session_id, file)
        with lock:
            order.pop((session_id, file.file_id), None)
            order[(session_id, file.file_id)] = len(file.data)
            dropped = victims(order, session_id, per_session, max_bytes)
            for key in dropped:
                order.pop(key, None)
        for held_session, file_id in dropped:
            remove_file(self, held_session, file_id)
            EVICTED["files"] += 1

    def forget_file(self, session_id: str, file_id: str) -> None:
        remove_file(self, session_id, file_id)
        with lock:
            order.pop((session_id, file_id), None)

    def forget_session(self, session_id: str) -> None:
        remove_session_files(self, session_id)
        with lock:
            for key in [key for key in order if key[0] == session_id]:
                order.pop(key)

    bounded_add.bounded = True
    MemoryUploadedFileManager.add_file = bounded_add
    MemoryUploadedFileManager.remove_file = forget_file
    MemoryUploadedFileManager.remove_session_files = forget_session
