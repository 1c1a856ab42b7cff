"""Every test runs offline on the bundled sample, with its own state folder, unless it says otherwise.

Tests sit by layer: core/, experiments/, service/ (store, queue, lifecycle, CLI, the wall), front/
(pages and figures) and system/ (real servers, browsers and clusters, marked `system`, so that
`pytest -m "not system"` is the quick loop). Helpers shared by several test files live here (the
CLI in-process and as a subprocess, waits with deadlines, a stored run) and in servers.py (a server
on a free port).
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# How long a test waits for work to happen: far above what the work needs on a quiet machine (seconds),
# so a machine at a load average of 10 slows the suite but never fails it. Tests wait on the event
# itself (a run finished, a record written) and return as soon as it happens.
PATIENCE_S = float(os.environ.get("DISTILL_TEST_PATIENCE_S", 900))
FULL_MNIST = Path(os.environ.get("DISTILL_FULL_DATA", ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(items):
    system = ROOT / "tests" / "system"
    for item in items:
        if system in Path(item.fspath).parents:
            item.add_marker(pytest.mark.system)


@pytest.fixture(autouse=True)
def isolated_lab(tmp_path_factory, monkeypatch):
    """Offline, bundled-sample data and a fresh state folder; the engine's process caches cleared."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("DISTILL_DATA", str(tmp_path_factory.mktemp("no-mnist")))
    monkeypatch.setenv("DISTILL_STATE", str(state))
    monkeypatch.setenv("DISTILL_OFFLINE", "1")
    monkeypatch.setenv("DISTILL_DEVICE", "cpu")
    from models.core import checkpoints as teacher, data
    data.default_dataset.cache_clear()
    teacher._memory.clear()
    yield state


@pytest.fixture(scope="session")
def sample():
    from models.core.data import load_sample
    return load_sample()


def cli_env(**extra) -> dict:
    """Environment for a `python -m models` subprocess: the parent's test settings plus extras."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """`python -m models ARGS` in a fresh process (one smoke test per subcommand uses this)."""
    return subprocess.run([sys.executable, "-m", "models", *args], capture_output=True, text=True,
                          cwd=ROOT, env=cli_env(), timeout=PATIENCE_S)


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """`python -m models ARGS` in this process: (exit status, stdout, stderr)."""
    from models.cli import main
    try:
        status = main(list(args))
    except SystemExit as exit_:  # argparse refusals
        status = exit_.code
    out = capsys.readouterr()
    return status, out.out, out.err


def assert_rejected(capsys, args: list[str], names: str) -> None:
    """Bad input: exit status 2, one stderr line that names the problem, no traceback, no output."""
    status, out, err = cli(capsys, *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1 and names in lines[0], err
    assert "Traceback" not in err and out == ""


def wait_for(store, run_id: int, timeout_s: float = PATIENCE_S):
    """The run once it has finished; fails the test after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = store.get(run_id)
        if run.finished:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish in {timeout_s} s: {store.get(run_id)}")


def wait_until(condition, timeout_s: float = PATIENCE_S, what: str = "condition"):
    """Poll condition() until it returns something truthy; fails the test after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout_s} s")


def done_distill_run(store, name: str) -> int:
    """A finished distillation run stored by hand (no training), named `name`."""
    from models.base.results import DistillResult
    config = {"student": "mlp-10", "temperature": 4.0, "alpha": 0.9, "train_size": 200, "epochs": 1, "seed": 0,
              "teacher": "pretrained", "omit_class": None}
    run_id = store.create("distill", config, name=name)
    store.claim(run_id)
    store.finish(run_id, DistillResult(student="mlp-10", student_params=7960, teacher_params=1_370_474,
                                       teacher_accuracy=0.99, distilled_accuracy=0.8, scratch_accuracy=0.7,
                                       gain=0.1, seconds=1.0, curves=[], dataset={"name": "sample"}))
    return run_id


@pytest.fixture
def tiny_disk(tmp_path):
    """A 4 MB filesystem of its own, so the test can fill it (skipped where mounting is not allowed)."""
    import shutil
    folder = tmp_path / "tiny"
    folder.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
                                                       capture_output=True).returncode != 0:
        pytest.skip("this machine cannot mount a small filesystem")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def fill_disk(folder) -> Path:
    """Take every free byte of folder's filesystem; returns the file to delete to give them back."""
    filler = Path(folder) / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler
