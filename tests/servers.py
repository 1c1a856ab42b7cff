"""Starting the lab's web server for a test, once for every test that needs one: a free port, the
server as a subprocess, and a wait until Streamlit says it is healthy."""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import PATIENCE_S, ROOT, cli_env
from front import free_port  # noqa: F401  (also for the tests that start their own servers)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def healthy(port: int) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


def _answering(command: list[str], what: str, seconds: float, output, env: dict) -> tuple[subprocess.Popen, int]:
    """COMMAND (with {port} filled in) on a free port; (process, port) once it answers its health
    check. Fails the test with its output if it does not come up within `seconds`."""
    port = free_port()
    process = subprocess.Popen([part.format(port=port) for part in command], cwd=ROOT, env=cli_env(**env),
                               stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if healthy(port):
            return process, port
        if process.poll() is not None:
            break
        time.sleep(0.3)
    process.kill()
    raise AssertionError(f"{what} did not start: "
                         + (process.stdout.read().decode() if process.stdout else "(output not captured)"))


def start_server(entry: str = "serve.py", output=subprocess.DEVNULL, **env) -> tuple[subprocess.Popen, int]:
    """`streamlit run ENTRY` with the tests' settings plus `env`, on a free port, once it answers."""
    return _answering([sys.executable, "-m", "streamlit", "run", entry, "--server.port", "{port}",
                       "--server.address", "127.0.0.1"], f"the server {entry}", PATIENCE_S, output, env)


def start_front(servers: int = 2, output=subprocess.DEVNULL, **env) -> tuple[subprocess.Popen, int]:
    """front.py with `servers` lab servers behind it, on a free port; it answers only once every
    server is healthy."""
    return _answering([sys.executable, "front.py", "--host", "127.0.0.1", "--port", "{port}", "--servers",
                       str(servers)], "front.py", PATIENCE_S, output, env)


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def spawned_workers(pid: int) -> list[int]:
    """The worker processes a server spawned (multiprocessing's spawn_main in their command line)."""
    return [child for child in children(pid) if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
