"""The room's front door: one address for everyone, and one lab server per core behind it.

Why: one Streamlit process runs every visitor's script threads and its event loop on one
interpreter lock, so a room of a hundred kept one core busy and left the other idle while sliders
waited (docs/workshop.md). Here each server is `streamlit run serve.py` on its own
port, bound to this machine only, with its share of the training workers; all of them share the
run store, so the leaderboard, the queue's runs and the facilitator's settings are the room's.

A visitor stays on one server. Streamlit keeps a session's state, uploads and media in the process
that made them, so the front reads the first request of each connection and sends a browser that
carries Streamlit's XSRF cookie to the server its token picks: every tab, reload, reconnect and
upload of one browser reaches the same server. A request without the cookie (a browser's very first
page) goes to the next server in turn, alone on its connection (`Connection: close`), so that the
cookie it is given routes everything after it. After that first request the front only copies bytes.

    python front.py                        http://0.0.0.0:8501, one server per core
    python front.py --port 8502 --servers 2
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

from models.service.visitors import xsrf_token

ROOT = Path(__file__).resolve().parent
XSRF_COOKIE = b"_streamlit_xsrf"
HEAD_LIMIT = 64 * 1024  # a request head longer than this is refused, as uvicorn would
HEAD_TIMEOUT_S = 10.0  # a connection that has not sent its first request head by then is closed
START_S = 180  # a server that has not answered its health check by then ends the front
BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


# -- which server ------------------------------------------------------------------------------
def header(head: bytes, name: bytes) -> list[bytes]:
    """The values of one header in a request head (names compared without case)."""
    name = name.lower() + b":"
    return [line[len(name):].strip() for line in head.split(b"\r\n")[1:] if line.lower().startswith(name)]


def server_for(head: bytes, servers: int) -> int | None:
    """The server this request's browser belongs to, from the token in its XSRF cookie (the mask
    changes with every page load, the token does not); None without a valid one."""
    for line in header(head, b"cookie"):
        for pair in line.split(b";"):
            name, _, value = pair.strip().partition(b"=")
            if name == XSRF_COOKIE:
                token = xsrf_token(value.decode("latin-1"))
                if token is not None:
                    return zlib.crc32(token) % servers
    return None


def alone_on_its_connection(head: bytes) -> bytes:
    """The request head asking its server to close the connection after the response: the next
    request on a new connection carries the cookie this one is given, and is routed by it. An
    upgrade (a WebSocket without the cookie: a script, not a browser) keeps its connection."""
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    if any(line.lower().startswith(b"upgrade:") for line in lines[1:]):
        return head
    kept = [line for line in lines[1:] if not line.lower().startswith((b"connection:", b"keep-alive:"))]
    return b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n"


# -- copying bytes -----------------------------------------------------------------------------
def _no_delay(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _ToVisitor(asyncio.Protocol):
    """A server's side of one connection: what it sends goes to the visitor as it comes."""

    def __init__(self, visitor: "_Visitor"):
        self.visitor = visitor

    def connection_made(self, transport):
        _no_delay(transport)

    def data_received(self, data):
        self.visitor.transport.write(data)

    def connection_lost(self, exc):
        self.visitor.transport.close()  # after what is buffered has gone

    def pause_writing(self):  # the server reads slower than the visitor sends
        self.visitor.transport.pause_reading()

    def resume_writing(self):
        self.visitor.transport.resume_reading()


class _Visitor(asyncio.Protocol):
    """A visitor's side of one connection: its first request head picks the server."""

    def __init__(self, ports: list[int], turn: itertools.cycle):
        self.ports, self.turn = ports, turn
        self.transport = self.upstream = self.connecting = None
        self.pending, self.ended = bytearray(), False  # ended: the visitor sent its last byte before we connected

    def connection_made(self, transport):
        self.transport = transport
        _no_delay(transport)
        # A visitor that opens connections and never finishes a request must not hold them open.
        self.slow = asyncio.get_running_loop().call_later(HEAD_TIMEOUT_S, transport.close)

    def data_received(self, data):
        if self.upstream is not None:
            self.upstream.write(data)
            return
        self.pending += data
        if self.connecting is not None:
            self.transport.pause_reading()  # until the server's connection is there to take it
            return
        end = self.pending.find(b"\r\n\r\n")
        if end < 0:
            if len(self.pending) > HEAD_LIMIT:
                self.transport.write(TOO_LARGE)
                self.transport.close()
            return
        head = bytes(self.pending[:end + 4])
        index = server_for(head, len(self.ports))
        if index is None:
            index = next(self.turn)
            self.pending[:end + 4] = alone_on_its_connection(head)
        self.slow.cancel()
        self.connecting = asyncio.ensure_future(self._connect(self.ports[index]))

    async def _connect(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            upstream, _ = await loop.create_connection(lambda: _ToVisitor(self), "127.0.0.1", port)
        except OSError:  # that server is starting again after a crash
            self.transport.write(BAD_GATEWAY)
            self.transport.close()
            return
        if self.transport.is_closing():
            upstream.close()
            return
        self.upstream = upstream
        upstream.write(bytes(self.pending))
        self.pending.clear()
        if self.ended:
            upstream.write_eof()
        self.transport.resume_reading()

    def eof_received(self):
        # A client that half-closes after its request still gets the answer: the end goes on to the
        # server (once connected), and the connection closes when the server closes its side.
        if self.upstream is not None:
            self.upstream.write_eof()
            return True
        self.ended = self.connecting is not None
        return self.ended

    def connection_lost(self, exc):
        self.slow.cancel()
        if self.upstream is not None:
            self.upstream.close()
        elif self.connecting is not None:
            self.connecting.add_done_callback(lambda _: self.upstream and self.upstream.close())

    def pause_writing(self):  # the visitor reads slower than the server sends
        if self.upstream is not None:
            self.upstream.pause_reading()

    def resume_writing(self):
        if self.upstream is not None:
            self.upstream.resume_reading()


# -- the servers behind it ---------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, cores: int, slot: tuple[int, int]) -> subprocess.Popen:
    """One lab server on this machine only, with its share of the cores (its workers, one per core,
    and their torch threads: models/core/device.py) and its slot among the servers (the visitors'
    seeds it hands out: models/service/visitors.py)."""
    env = {**os.environ, "DISTILL_CORES": str(cores), "DISTILL_SERVER": f"{slot[0]}/{slot[1]}"}
    return subprocess.Popen([sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             # its own "You can now view" would send the room to a port only this machine can open
                             "--logger.hideWelcomeMessage", "true"], cwd=ROOT, env=env)


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
            return True
    except OSError:
        return False


def room_addresses(host: str, port: int) -> list[str]:
    """What the room opens: this machine's own and its network address when the front listens on
    every interface (Streamlit's own way of finding the latter), else the address it listens on."""
    if host not in ("0.0.0.0", "::", ""):
        return [f"http://{host}:{port}"]
    from streamlit import net_util
    network = net_util.get_internal_ip()
    return [f"http://localhost:{port}"] + ([f"http://{network}:{port}"] if network else [])


def stop(servers: list[subprocess.Popen], grace_s: float = 30.0) -> None:
    """SIGTERM first: each server stops its workers and marks their runs interrupted."""
    for server in servers:
        if server.poll() is None:
            server.terminate()
    deadline = time.monotonic() + grace_s
    for server in servers:
        try:
            server.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            server.kill()


async def serve(host: str, port: int, count: int, cores: int) -> int:
    loop = asyncio.get_running_loop()
    ports, turn = [free_port() for _ in range(count)], itertools.cycle(range(count))
    try:
        front = await loop.create_server(lambda: _Visitor(ports, turn), host, port, start_serving=False)
    except OSError as error:
        print(f"error: cannot listen on {host}:{port} ({error.strerror or error})", file=sys.stderr)
        return 2
    servers = [start_server(p, cores, (n, count)) for n, p in enumerate(ports)]
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stopping.set)
        except NotImplementedError:  # Windows: Ctrl-C arrives as KeyboardInterrupt, and `finally` stops the servers
            pass
    try:
        deadline = time.monotonic() + START_S
        for index, server_port in enumerate(ports):
            while not await asyncio.to_thread(healthy, server_port):
                if stopping.is_set():
                    return 0
                if servers[index].poll() is not None or time.monotonic() > deadline:
                    print(f"error: lab server {index + 1} did not start", file=sys.stderr)
                    return 1
                await asyncio.sleep(0.2)
        await front.start_serving()
        print(f"Distillation Lab: {' and '.join(room_addresses(host, port))} "
              f"({count} servers, {cores} {'core' if cores == 1 else 'cores'} each)", flush=True)
        ready = [True] * count  # answered its health check since it was last started
        while not stopping.is_set():
            try:
                await asyncio.wait_for(stopping.wait(), timeout=1.0)
            except TimeoutError:
                pass
            for index, server in enumerate(servers):
                if stopping.is_set():
                    break
                if server.poll() is None:
                    ready[index] = ready[index] or await asyncio.to_thread(healthy, ports[index])
                    continue
                if not ready[index]:  # it died again before it could serve: something is wrong, not bad luck
                    print(f"error: lab server {index + 1} keeps exiting (code {server.returncode})", file=sys.stderr)
                    return 1
                print(f"lab server {index + 1} exited (code {server.returncode}); starting it again", flush=True)
                servers[index], ready[index] = start_server(ports[index], cores, (index, count)), False
        return 0
    finally:
        front.close()
        await asyncio.to_thread(stop, servers)


def main(argv: list[str] | None = None) -> int:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0", help="the address the room opens (default: every interface)")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--servers", type=int, default=cores, help=f"lab servers behind the front (default: one per core, {cores})")
    args = parser.parse_args(argv)
    if not 1 <= args.servers <= 4 * cores:
        parser.exit(2, f"error: --servers must be between 1 and {4 * cores} on this machine, got {args.servers}\n")
    if not 0 < args.port < 65536:
        parser.exit(2, f"error: --port must be between 1 and 65535, got {args.port}\n")
    # The room's workers, one per core in all, split between the servers (each has at least one).
    return asyncio.run(serve(args.host, args.port, args.servers, max(1, cores // args.servers)))


if __name__ == "__main__":
    sys.exit(main())
