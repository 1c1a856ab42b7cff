"""Hostile clients against the real server, through Streamlit's own WebSocket protocol: what any
browser tab could send, not only what the pages' widgets send."""
import asyncio

import pytest

from tests.protocol import Session
from tests.servers import spawned_workers, start_server
from tests.conftest import PATIENCE_S, wait_until


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.fixture
def server(isolated_lab, tmp_path):
    log = open(tmp_path / "server.log", "w+")
    process, port = start_server("serve.py", output=log)
    yield process, port, tmp_path / "server.log"
    process.terminate()
    process.wait(timeout=20)
    log.close()


def test_cache_clears_and_git_lookups_are_dropped_and_leave_the_room_as_it_was(server):
    process, port, log = server
    wait_until(lambda: "The room is ready" in log.read_text(), PATIENCE_S, "the room prepared")  # then memory is settled
    workers = sorted(spawned_workers(process.pid))

    async def visit():
        async with Session(port) as visitor:
            await visitor.run_page()
            await visitor.run_page()  # the second page view: caches warm, memory settled
            before = _rss_mb(process.pid)
            for _ in range(10):
                await visitor.send("clear_cache")
                await visitor.send("load_git_info")  # each would run git on the server's event loop
                finished = await visitor.run_page()  # the room still answers every visitor
                assert finished[-1].WhichOneof("type") == "script_finished"
            return before, _rss_mb(process.pid)

    before, after = asyncio.run(visit())
    assert sorted(spawned_workers(process.pid)) == workers  # the same two workers, no new pool
    assert after - before < 50, f"server memory grew from {before:.0f} to {after:.0f} MB"
    wait_until(lambda: "dropped 20 message(s) from this visitor" in log.read_text(), PATIENCE_S, "the count logged")
    assert "clear_cache 10, load_git_info 10" in log.read_text()
    assert log.read_text().count("dropped a clear_cache message") == 1  # said once, then counted


def test_deep_addresses_with_a_route_name_inside_go_to_the_start_page(server):
    import urllib.error
    import urllib.request
    _, port, _ = server

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def status(path: str) -> tuple[int, str]:
        try:
            answer = opener.open(f"http://127.0.0.1:{port}{path}", timeout=10)
            return answer.status, answer.read(200).decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", "")

    for path in ("/distill/static", "/compare/media/x", "/a/component/b"):
        assert status(path) == (302, "/?address=unknown"), path
    assert status("/distill/_stcore/health")[0] != 302  # the page's own probe is Streamlit's to answer
    assert status("/_stcore/health") == (200, "ok")
