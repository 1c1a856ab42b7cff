"""Every test runs offline on the bundled sample, with its own state folder, unless it says otherwise."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FULL_MNIST = Path(os.environ.get("DISTILL_FULL_DATA", ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def isolated_lab(tmp_path_factory, monkeypatch):
    """Offline, bundled-sample data and a fresh state folder; the engine's process caches cleared."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("DISTILL_DATA", str(tmp_path_factory.mktemp("no-mnist")))
    monkeypatch.setenv("DISTILL_STATE", str(state))
    monkeypatch.setenv("DISTILL_OFFLINE", "1")
    monkeypatch.setenv("DISTILL_DEVICE", "cpu")
    from models import data, teacher
    data.default_dataset.cache_clear()
    teacher._memory.clear()
    yield state


@pytest.fixture(scope="session")
def sample():
    from models.data import load_sample
    return load_sample()


def cli_env(**extra) -> dict:
    """Environment for a `python -m models` subprocess: the parent's test settings plus extras."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    return env
