"""The servers the load benchmarks measure: a lab room through front.py, a lab server alone and the
bare one-slider Streamlit app, each on a free port, and waits for them to be healthy and idle."""
from __future__ import annotations

import contextlib
import os
import tempfile
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.processes import cpu, web_servers
from front import free_port as _port

ROOT = Path.cwd()

@contextlib.contextmanager
def bare_server(env: dict, nagle: bool = False):
    """A fresh server of its own for the bare Streamlit app (bench/protocol.py: BARE_APP), served the
    lab's way: Streamlit's own ASGI app (st.App, as serve.py) with the lab's server settings; yields
    (port, process). nagle=True serves it as Streamlit ships, without serve.py's accept_without_nagle."""
    from bench.protocol import BARE_APP
    folder = Path(tempfile.mkdtemp(prefix="load-bare-"))
    (folder / "bare.py").write_text(BARE_APP)
    mend = "" if nagle else (f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                             "from server_guards import accept_without_nagle\naccept_without_nagle()\n")
    (folder / "serve_bare.py").write_text(mend + 'import streamlit as st\napp = st.App("bare.py")\n')
    (folder / ".streamlit").mkdir()
    (folder / ".streamlit" / "config.toml").write_text((ROOT / ".streamlit" / "config.toml").read_text())
    with streamlit_server("serve_bare.py", folder, env) as served:
        yield served


@contextlib.contextmanager
def streamlit_server(entry: str, folder: Path, env: dict):
    """`streamlit run entry` in folder on a free local port, once it answers its health check;
    yields (port, process) and stops it after."""
    port = _port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", entry, "--server.port", str(port),
                               "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=folder, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server)
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=60)


def start_server(env: dict, servers: int | None = None) -> tuple[subprocess.Popen, str]:
    """A fresh room on a free port, as the README starts it: front.py and its servers (servers=None:
    its default, one per core); in older checkouts serve.py or app.py, one server."""
    port = _port()
    if (ROOT / "front.py").exists():
        command = [sys.executable, "front.py", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--servers", str(servers)] if servers else []
    else:
        entry = "serve.py" if (ROOT / "serve.py").exists() else "app.py"
        command = [sys.executable, "-m", "streamlit", "run", entry, "--server.port", str(port), "--server.headless", "true"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, server)
    return server, url


def wait_healthy(url: str, server: subprocess.Popen | None = None) -> None:
    """Until the Streamlit server at url answers its health check (an exit before that ends the run)."""
    while True:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return
        except OSError:
            if server is not None and server.poll() is not None:
                raise SystemExit("error: the server exited before it answered")
            time.sleep(0.05)


def wait_until_idle(server: int, most_s: float = 120.0) -> None:
    """Until the server and its workers use under a tenth of a core for a second: a server that
    prepares the room as it starts is measured once it is ready, as a presenter would open it."""
    deadline = time.monotonic() + most_s
    while time.monotonic() < deadline:
        before = sum(cpu(server))
        time.sleep(1.0)
        if sum(cpu(server)) - before < 0.1:
            return
