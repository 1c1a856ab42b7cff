"""#21.1: the room's light visitors (bench/protocol.py) against a real server: three at once open
the start page, move the Soft-targets slider, distil a small student, see it finish, and find it
on Compare, each as their own visitor."""
import asyncio
import subprocess

import pytest

from models.service.store import RunStore
from tests.protocol import visit
from tests.servers import start_server

@pytest.fixture
def server(isolated_lab):
    process, port = start_server("serve.py", output=subprocess.PIPE, DISTILL_SESSION_JOBS="1")
    yield port
    process.terminate()
    process.wait(timeout=20)

def test_three_light_visitors_each_see_their_own_run_finish_and_on_compare(server):
    async def room():
        return await asyncio.gather(*(visit(server, n, run_wait_s=240, moves=3) for n in range(3)))
    visits = asyncio.run(room())
    assert [v.error for v in visits] == ["", "", ""]
    for seen in visits:
        assert seen.first_page_s is not None and len(seen.slider_s) == 3  # each move drew its new sentence
        assert seen.submitted and seen.finished and seen.shown_to_owner and seen.listed_on_compare
        assert seen.exceptions == 0
    runs = RunStore().list(kind="distill")  # the server's store: this test's state folder
    assert sorted(r.name for r in runs) == ["light-0", "light-1", "light-2"] and {r.status for r in runs} == {"done"}
    # One submission each was allowed (DISTILL_SESSION_JOBS=1): three owners, so three visitors, not one.
    assert len({r.owner for r in runs}) == 3
    assert {(r.config.train_size, r.config.epochs) for r in runs} == {(500, 3)}


def test_the_light_client_finds_the_run_a_submit_drew_even_when_it_already_finished():
    from bench.protocol import submitted_run
    assert submitted_run("3. Distil a student\nRun 12: waiting for a free worker. You are number 3 in line") == 12
    # a worker finished it before the page first read it back: its result is already drawn
    assert submitted_run("3. Distil a student\nRun #13, seed 10: mlp-100 trained in 1 s.\nDistilled student") == 13
    assert submitted_run("The stored default result for this page's default settings …") is None
    assert submitted_run("Not started: the room's queue is full") is None
