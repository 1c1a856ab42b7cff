"""Uploads cannot pin the shared server's memory (upload_bounds.py on Streamlit's own upload store)."""
import pytest
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

import upload_bounds

MB = 1024 * 1024


@pytest.fixture
def store(monkeypatch):
    # Bounds on a fresh copy of the class's methods: the real server's patch is left as it was.
    for name in ("add_file", "remove_file", "remove_session_files"):
        monkeypatch.setattr(MemoryUploadedFileManager, name, getattr(MemoryUploadedFileManager, name))
    upload_bounds.bound_uploads(per_session=2, max_bytes=10 * MB)
    return MemoryUploadedFileManager("/_stcore/upload_file")


def _upload(store, session: str, number: int, size: int = MB) -> None:
    store.add_file(session, UploadedFileRec(f"file-{number}", "x.png", "image/png", b"\0" * size))


def test_a_session_keeps_only_its_newest_files_however_many_it_sends(store):
    for number in range(200):  # 200 uploads with no widget asking for them
        _upload(store, "flooder", number)
    assert list(store.file_storage["flooder"]) == ["file-198", "file-199"]
    assert store._total_bytes == 2 * MB


def test_the_server_holds_a_bounded_total_the_oldest_going_first(store):
    for number in range(30):  # thirty sessions (forged or real), two files each
        _upload(store, f"session-{number}", 2 * number)
        _upload(store, f"session-{number}", 2 * number + 1)
    assert store._total_bytes <= 10 * MB
    assert store.get_files("session-29", ["file-58", "file-59"])  # the newest are kept
    assert not store.file_storage.get("session-0")  # the oldest went first
    store.remove_session_files("session-29")  # a session's end frees its files
    assert store._total_bytes <= 8 * MB
