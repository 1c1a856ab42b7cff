"""The room's light visitors (bench/protocol.py) against a real room, served as the README
serves it: front.py with two lab servers behind one address. Three at once open the start page,
move the Soft-targets slider, distil a small student, see it finish, and find it on Compare, each as
their own visitor; the servers split them and share one store; another tab of one visitor's browser
reaches that visitor's server."""
import asyncio
import os
import signal
import sqlite3
import subprocess
import time
import zlib
from pathlib import Path


import pytest
from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

from models.service.store import RunStore
from tests.conftest import PATIENCE_S
from tests.protocol import visit
from tests.servers import children, healthy, start_front


def browser_cookie(server: int, servers: int = 2) -> str:
    """A browser's XSRF cookie whose token front.py routes to this server."""
    token = next(bytes([n]) * 32 for n in range(256) if zlib.crc32(bytes([n]) * 32) % servers == server)
    return "_streamlit_xsrf=" + generate_xsrf_token_string(token, 1_700_000_000)


@pytest.fixture
def room(isolated_lab):
    process, port = start_front(2, output=subprocess.PIPE, DISTILL_SESSION_JOBS="1")
    yield process, port
    process.terminate()
    process.wait(timeout=60)


def test_three_light_visitors_each_see_their_own_run_finish_and_on_compare(room):
    front, port = room
    cookies = [browser_cookie(0), browser_cookie(1), True]  # one on each server; one as a browser gets it

    async def visitors():
        return await asyncio.gather(*(visit(port, n, run_wait_s=240, moves=3, cookie=c) for n, c in enumerate(cookies)))
    visits = asyncio.run(visitors())
    assert [v.error for v in visits] == ["", "", ""]
    for seen in visits:
        assert seen.first_page_s is not None and len(seen.slider_s) == 3  # each move drew its new sentence
        assert seen.submitted and seen.finished and seen.shown_to_owner and seen.listed_on_compare
        assert seen.exceptions == 0
    # Visitor 0's second tab (same browser, same cookie), once its first run is done.
    again = asyncio.run(visit(port, 3, run_wait_s=240, moves=1, cookie=cookies[0]))
    assert again.error == "" and again.shown_to_owner
    store = RunStore()  # the room's one store: this test's state folder
    runs = {r.name: r for r in store.list(kind="distill")}
    assert sorted(runs) == ["light-0", "light-1", "light-2", "light-3"] and {r.status for r in runs.values()} == {"done"}
    with sqlite3.connect(store.path) as db:
        server = dict(db.execute("SELECT name, server FROM runs"))  # the server process that queued each run
    # Two servers served the room, and every run, whichever server took it, is in the one store.
    assert server["light-0"] != server["light-1"]
    # The second tab reached its browser's server: the same server, and the same visitor there (a
    # visitor's id is salted per server process, so another server would have seen a stranger).
    assert (server["light-3"], runs["light-3"].owner) == (server["light-0"], runs["light-0"].owner)
    # One submission each was allowed (DISTILL_SESSION_JOBS=1): three owners, so three visitors, not one.
    assert len({runs[f"light-{n}"].owner for n in range(3)}) == 3
    assert {(r.config.train_size, r.config.epochs) for r in runs.values()} == {(500, 3)}
    # A server that dies (killed, out of memory) is started again, and its visitors are served again.
    servers = children(front.pid)
    assert len(servers) == 2
    os.kill(servers[0], signal.SIGKILL)
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline and not _both_serving(front.pid, servers[0]):
        time.sleep(0.5)

    async def both_servers():
        return await asyncio.gather(*(visit(port, n, run_wait_s=240, moves=1, cookie=browser_cookie(n % 2))
                                      for n in (4, 5)))
    assert [v.error for v in asyncio.run(both_servers())] == ["", ""]
    assert front.poll() is None
    # SIGTERM to the front stops its servers too (each stops its workers first).
    servers = children(front.pid)
    assert len(servers) == 2
    front.terminate()
    assert front.wait(timeout=60) == 0
    assert not [pid for pid in servers if _alive(pid)]


def _both_serving(front: int, dead: int) -> bool:
    """Two servers again, the killed one replaced, each answering on its own port."""
    now = children(front)
    if len(now) != 2 or dead in now:
        return False
    ports = [open(f"/proc/{pid}/cmdline").read().split("\0") for pid in now]
    return all(healthy(int(cmd[cmd.index("--server.port") + 1])) for cmd in ports)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_light_client_finds_the_run_a_submit_drew_even_when_it_already_finished():
    from bench.protocol import submitted_run
    assert submitted_run("3. Distil a student\nRun 12: waiting for a free worker. You are number 3 in line") == 12
    # a worker finished it before the page first read it back: its result is already drawn
    assert submitted_run("3. Distil a student\nRun #13, seed 10: mlp-100 trained in 1 s.\nDistilled student") == 13
    assert submitted_run("The stored default result for this page's default settings …") is None
    assert submitted_run("Not started: the room's queue is full") is None


def test_an_empty_or_odd_autogroup_file_means_no_group_of_its_own():
    # the kernel leaves the file empty for processes in its root group, as CI's runner keeps the suite
    from bench.niceness import parsed_autogroup
    assert parsed_autogroup("/autogroup-28 nice 10\n") == ("/autogroup-28", 10)
    assert parsed_autogroup("/autogroup-3 nice -5") == ("/autogroup-3", -5)
    assert parsed_autogroup("") is None
    assert parsed_autogroup("/autogroup-28 nice") is None


def _a_new_session_gets_an_autogroup() -> bool:
    from bench.niceness import autogroup
    alone = subprocess.Popen(["sleep", "5"], start_new_session=True)
    try:
        return autogroup(alone.pid) is not None
    finally:
        alone.kill()
        alone.wait()


@pytest.mark.skipif(not _a_new_session_gets_an_autogroup(), reason="no scheduler autogroups on this kernel")
def test_the_benchmarks_browsers_yield_as_a_group_and_never_nice_the_servers_group(monkeypatch):
    """bench.load --browser-nice: Chromium runs in a session (and so a scheduler autogroup) of its own,
    where its threads' niceness never weighed against the servers; the group itself must be niced,
    and the benchmark's own group, which holds the servers, never. The benchmark's own group is
    None where it runs in the kernel's root group (CI): the servers are then not in any named group."""
    from bench.niceness import autogroup as group, niced_autogroup

    own = group(os.getpid())
    alone = subprocess.Popen(["sleep", "60"], start_new_session=True)  # as Playwright starts Chromium
    beside = subprocess.Popen(["sleep", "60"])  # as the benchmark starts its servers
    try:
        assert group(alone.pid)[1] == 0 and (own is None or group(alone.pid)[0] != own[0])
        assert niced_autogroup(alone.pid, 10) is True
        assert group(alone.pid)[1] == 10
        assert niced_autogroup(alone.pid, 10) is False  # already so: nothing written again
        assert niced_autogroup(beside.pid, 10) is False
        assert group(os.getpid()) == own == group(beside.pid)

        # as under CI's runner: the benchmark and its servers in the kernel's root group, no name
        import bench.niceness
        Path(f"/proc/{alone.pid}/autogroup").write_text("0")
        root = {"self", os.getpid(), beside.pid}
        monkeypatch.setattr(bench.niceness, "autogroup", lambda pid: None if pid in root else group(pid))
        assert niced_autogroup(alone.pid, 10) is True and group(alone.pid)[1] == 10
        assert niced_autogroup(beside.pid, 10) is False
    finally:
        for process in (alone, beside):
            process.kill()
            process.wait()
