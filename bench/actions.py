"""What each of a visitor's actions costs one lab server: the server's CPU and the visitor's wait per
start page, Soft-targets page, T-slider move, Distil page, submit, poll of a training run and Compare
page, each averaged over repeats on an otherwise idle server, beside a slider move on the bare
Streamlit app (bench/protocol.py: BARE_APP) served the same way in the same run.

    DISTILL_DATA=../shared/data python -m bench.actions [--repeats 40]

A room's time is these costs times its visitors (bench.load: each visitor opens three pages, moves
the slider five times, submits once, polls while the run trains and opens Compare), so this is where
to look first when a room is slow, and what to compare before and after a change to a page. CPU is
the server process's own from /proc (its workers' training is not in it), less what the idle server
spends in the same time (its heartbeats and file watchers). Prints one JSON object.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import tempfile
import time

from bench.load import ROOT, bare_server, parent_and_cpu_s, streamlit_server, wait_until_idle
from bench.protocol import Session, submitted_run

SMALL_RUN = {"train_size": 500, "epochs": 3}
LONG_RUN = {"train_size": 20_000, "epochs": 20}  # still training while it is polled
START_WAIT_S = 300  # the small runs ahead of it take seconds; a run that never starts ends the bench


class Meter:
    """Server CPU (ms, less the idle rate) and wall time (ms) per call of an action."""

    def __init__(self, pid: int, idle_cpu_per_s: float):
        self.pid, self.idle_cpu_per_s = pid, idle_cpu_per_s

    async def per_call(self, calls: int, action) -> dict:
        cpu, tick = parent_and_cpu_s(self.pid)[1], time.perf_counter()
        for _ in range(calls):
            await action()
        wall = time.perf_counter() - tick
        own = parent_and_cpu_s(self.pid)[1] - cpu - self.idle_cpu_per_s * wall
        return {"server_cpu_ms": round(1000 * max(own, 0.0) / calls, 2), "wall_ms": round(1000 * wall / calls, 2),
                "calls": calls}


def idle_cpu_per_s(pid: int, seconds: float = 5.0) -> float:
    before = parent_and_cpu_s(pid)[1]
    time.sleep(seconds)
    return (parent_and_cpu_s(pid)[1] - before) / seconds


def _mover(session: Session, slider: tuple[str, str]):
    """A slider move to the other of two values each call (a move to the value it has draws nothing new)."""
    slider_id, fragment = slider
    values = iter([4.5, 5.0] * 100_000)

    async def move():
        value = next(values)
        moved = await session.rerun(widgets=[(slider_id, "double_array_value", [value])], fragment=fragment)
        if f"At T = {value:g}" not in moved.text():
            raise SystemExit(f"error: a slider move to T = {value:g} drew no new sentence")
    return move


async def _submit(session: Session, form, name: str, settings: dict) -> int:
    widgets = [(form.widgets["train_size"][0], "int_value", settings["train_size"]),
               (form.widgets["epochs"][0], "int_value", settings["epochs"]),
               (form.widgets["run_name"][0], "string_value", name),
               (form.widgets["distill_submit"][0], "trigger_value", True)]
    run_id = submitted_run((await session.rerun(widgets=widgets)).text())
    if run_id is None:
        raise SystemExit("error: a submit drew no run")
    return run_id


async def _lab(port: int, meter: Meter, repeats: int) -> dict:
    costs = {}
    async with Session(port, cookie=True) as session:
        await session.rerun()  # the navigation: every page's address
        costs["start_page"] = await meter.per_call(repeats, lambda: session.rerun(""))
        costs["soft_targets_page"] = await meter.per_call(repeats, lambda: session.rerun("soft_targets"))
        soft = await session.rerun("soft_targets")
        costs["slider_move"] = await meter.per_call(5 * repeats, _mover(session, soft.widgets["soft_temperature"]))
        costs["distill_page"] = await meter.per_call(repeats, lambda: session.rerun("distill"))
        form = await session.rerun("distill")
        names = iter(range(repeats))
        costs["submit"] = await meter.per_call(
            max(1, repeats // 4), lambda: _submit(session, form, f"bench-{next(names)}", SMALL_RUN))
        long_run = await _submit(session, await session.rerun("distill"), "bench-long", LONG_RUN)
        page, deadline = await session.rerun(), time.monotonic() + START_WAIT_S
        while not re.search(rf"Run {long_run}: training", page.text()):  # the small runs go first
            if time.monotonic() > deadline:
                raise SystemExit(f"error: run {long_run} did not start training within {START_WAIT_S} s")
            await asyncio.sleep(0.5)
            page = await session.rerun("distill")
        poll = page.fragment_of(rf"Run {long_run}: ")
        costs["poll_of_a_training_run"] = await meter.per_call(
            5 * repeats, lambda: session.rerun(fragment=poll, auto=True))
        costs["compare_page"] = await meter.per_call(repeats, lambda: session.rerun("compare"))
    return costs


async def _bare(port: int, meter: Meter, repeats: int) -> dict:
    async with Session(port, cookie=True) as session:
        page = await session.rerun()
        return await meter.per_call(5 * repeats, _mover(session, page.widgets["bare_temperature"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40, help="calls per page (five times as many slider moves and polls)")
    args = parser.parse_args()
    if not 1 <= args.repeats <= 1000:
        parser.exit(2, f"error: --repeats must be between 1 and 1000, got {args.repeats}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DISTILL_STATE": tempfile.mkdtemp(prefix="actions-state-"),
           "DISTILL_SESSION_JOBS": str(args.repeats + 2)}
    with streamlit_server("serve.py", ROOT, env) as (port, server):
        wait_until_idle(server.pid)
        idle = idle_cpu_per_s(server.pid)
        lab = asyncio.run(_lab(port, Meter(server.pid, idle), args.repeats))
    with bare_server(env) as (bare_port, bare):
        wait_until_idle(bare.pid)
        bare_idle = idle_cpu_per_s(bare.pid)
        baseline = asyncio.run(_bare(bare_port, Meter(bare.pid, bare_idle), args.repeats))
    walk = ["start_page", "soft_targets_page", "distill_page", "submit", "compare_page"]
    print(json.dumps({
        "repeats": args.repeats,
        "lab": lab,
        "baseline_bare_streamlit_slider_move": baseline,
        "slider_move_cpu_vs_bare": round(lab["slider_move"]["server_cpu_ms"] / max(baseline["server_cpu_ms"], 1e-3), 2),
        # one bench.load visitor's walk without its polls: three pages, five moves, a submit, Compare
        "walk_without_polls_cpu_ms": round(sum(lab[a]["server_cpu_ms"] for a in walk)
                                           + 5 * lab["slider_move"]["server_cpu_ms"], 1),
        "idle_server_cpu_ms_per_s": {"lab": round(1000 * idle, 2), "bare": round(1000 * bare_idle, 2)},
    }, indent=2))


if __name__ == "__main__":
    main()
