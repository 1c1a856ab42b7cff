"""Starting the lab's web server for a test, once for every test that needs one: a free port, the
server as a subprocess, and a wait until Streamlit says it is healthy."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT, cli_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


def start_server(entry: str = "serve.py", output=subprocess.DEVNULL, **env) -> tuple[subprocess.Popen, int]:
    """`streamlit run ENTRY` on a free port with the tests' settings plus `env`; (process, port) once
    healthy. Fails the test with the server's output if it does not come up within a minute."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", entry, "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=cli_env(**env), stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if healthy(port):
            return process, port
        if process.poll() is not None:
            break
        time.sleep(0.3)
    process.kill()
    raise AssertionError(f"the server {entry} did not start: "
                         + (process.stdout.read().decode() if process.stdout else "(output not captured)"))


def start_front(servers: int = 2, output=subprocess.DEVNULL, **env) -> tuple[subprocess.Popen, int]:
    """front.py with `servers` lab servers behind it, on a free port; (process, port) once the front
    answers (it opens only when every server is healthy)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "front.py", "--host", "127.0.0.1", "--port", str(port),
                                "--servers", str(servers)], cwd=ROOT, env=cli_env(**env), stdout=output,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if healthy(port):
            return process, port
        if process.poll() is not None:
            break
        time.sleep(0.3)
    process.kill()
    raise AssertionError("front.py did not start: " + (process.stdout.read().decode() if process.stdout else ""))


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
