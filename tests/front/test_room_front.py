"""front.py, the room's front door: which server a request goes to, how a cookieless first request
is served alone, and the command line's refusals. tests/system/test_protocol_load.py drives a room
through it."""
import asyncio
import itertools
import random
import socket
import subprocess
import sys
import zlib

from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

import front
from tests.conftest import ROOT


def request(*headers: str, line: str = "GET /_stcore/health HTTP/1.1") -> bytes:
    return ("\r\n".join([line, "Host: laptop:8501", *headers]) + "\r\n\r\n").encode()


def test_every_request_of_one_browser_goes_to_the_server_its_token_picks():
    token = random.Random(0).randbytes(32)
    # Streamlit masks the token afresh on every page load: the cookie changes, the server does not.
    first, later = (generate_xsrf_token_string(token, 1_700_000_000) for _ in range(2))
    assert first != later
    picked = zlib.crc32(token) % 3
    assert front.server_for(request(f"Cookie: _streamlit_xsrf={first}"), 3) == picked
    assert front.server_for(request(f"cookie: theme=dark; _streamlit_xsrf={later}; x=1"), 3) == picked
    assert front.server_for(request("Cookie: theme=dark"), 3) is None  # a first visit: no cookie yet
    assert front.server_for(request("Cookie: _streamlit_xsrf=2|zz|<script>|1"), 3) is None  # not a token
    assert front.server_for(request(), 3) is None


def test_a_room_of_browsers_is_spread_over_the_servers():
    tokens = [random.Random(n).randbytes(32) for n in range(400)]
    cookies = [f"Cookie: _streamlit_xsrf={generate_xsrf_token_string(t, 1_700_000_000)}" for t in tokens]
    counts = [0, 0]
    for cookie in cookies:
        counts[front.server_for(request(cookie), 2)] += 1
    assert min(counts) > 150  # about half each (400 fixed tokens: this split is always the same)


def test_a_request_without_the_cookie_is_served_alone_so_the_next_one_is_routed_by_its_cookie():
    head = front.alone_on_its_connection(request("Connection: keep-alive", "Keep-Alive: timeout=5", "Accept: */*"))
    assert head.startswith(b"GET /_stcore/health HTTP/1.1\r\nHost: laptop:8501\r\n") and head.endswith(b"\r\n\r\n")
    assert front.header(head, b"connection") == [b"close"] and front.header(head, b"keep-alive") == []
    assert front.header(head, b"accept") == [b"*/*"]
    # A WebSocket without the cookie (a script, not a browser) keeps its upgrade and its connection.
    upgrade = request("Connection: Upgrade", "Upgrade: websocket", line="GET /_stcore/stream HTTP/1.1")
    assert front.alone_on_its_connection(upgrade) == upgrade


def run_front(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "front.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_the_command_line_refuses_bad_settings_in_one_line_with_status_2():
    for args, reason in ((["--servers", "0"], "--servers must be between 1 and"),
                         (["--port", "70000"], "--port must be between 1 and 65535")):
        done = run_front(*args)
        assert done.returncode == 2 and reason in done.stderr and len(done.stderr.strip().splitlines()) == 1
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = run_front("--host", "127.0.0.1", "--port", str(taken.getsockname()[1]))
    assert done.returncode == 2 and "cannot listen on 127.0.0.1" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1  # and no server was started for nothing


async def _backend(name: bytes, seen: list):
    """A stand-in lab server: answers each request head with its name and closes (as Connection: close asks)."""
    async def answer(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append((name, head))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(name), name))
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _ask(port: int, data: bytes, half_close: bool = False) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    if half_close:  # some clients end their side once the request is sent
        writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), timeout=10)  # until the front closes it
    writer.close()
    return answer


def test_the_front_copies_each_request_to_its_server_and_closes_what_it_cannot_route(monkeypatch):
    monkeypatch.setattr(front, "HEAD_TIMEOUT_S", 0.2)

    async def room():
        seen = []
        (zero, zero_port), (one, one_port) = [await _backend(name, seen) for name in (b"zero", b"one")]
        ports = [zero_port, one_port]
        loop = asyncio.get_running_loop()
        turn = itertools.cycle(range(2))
        door = await loop.create_server(lambda: front._Visitor(ports, turn), "127.0.0.1", 0)
        port = door.sockets[0].getsockname()[1]
        token = next(bytes([n]) * 32 for n in range(256) if zlib.crc32(bytes([n]) * 32) % 2 == 1)
        cookie = f"Cookie: _streamlit_xsrf={generate_xsrf_token_string(token, 1_700_000_000)}"
        answers = [await _ask(port, request("Connection: keep-alive")),  # a first visit: the next server in turn
                   await _ask(port, request(cookie), half_close=True),  # its browser's server
                   await _ask(port, b"GET / HTTP/1.1\r\nHost: lap")]  # a head never finished
        ports[0] = front.free_port()  # a server that is down (starting again after a crash)
        turn = itertools.cycle([0])
        answers.append(await _ask(port, request()))
        door.close()
        zero.close()
        one.close()
        return answers, seen
    answers, seen = asyncio.run(room())
    assert answers[0].endswith(b"zero") and answers[1].endswith(b"one")
    assert front.header(seen[0][1], b"connection") == [b"close"]  # served alone: the next request brings the cookie
    assert front.header(seen[1][1], b"connection") == []  # a routed request is copied as it came
    assert answers[2] == b""  # closed after HEAD_TIMEOUT_S, never sent to a server
    assert answers[3].startswith(b"HTTP/1.1 502 ")
    assert len(seen) == 2


def test_the_front_names_the_addresses_a_room_can_open():
    assert front.room_addresses("127.0.0.1", 8502) == ["http://127.0.0.1:8502"]
    everywhere = front.room_addresses("0.0.0.0", 8501)
    assert everywhere[0] == "http://localhost:8501" and all(a.endswith(":8501") for a in everywhere)
    assert len(everywhere) <= 2 and "0.0.0.0" not in " ".join(everywhere)  # never the wildcard itself
