"""A workshop room on one machine: N real Chromium sessions (or light protocol sessions, with
--clients protocol) against a fresh room, started as the README starts it (front.py, one server per
core; --servers K).

    DISTILL_DATA=../shared/data python -m bench.load --sessions 10 [--rounds 3] [--think-s 1]

Each session opens the app, goes to *Soft targets* through the sidebar (as a visitor does: same
session, no reload), waits until its chart is drawn, moves the T slider five times, distils a
small student (500 images, 3 epochs) on *Distil*, waits for it, and looks for it on *Compare*.
Prints one JSON object: first-page and slider re-render times (median, 95th percentile), runs
submitted / finished / shown to their owner, exceptions seen, CPU seconds of the server and of its
workers, and resident memory of the server with its workers before, at peak, and after each round
of sessions has closed. The browsers share this machine's cores with the server, so what they
spend drawing pages lands in the server's timings too.
With --clients protocol it also reports each round's timings and how late the load client's own
event loop woke (the client shares the cores, so its delays land in its timings).
Run it against an older checkout (same command there; it serves one serve.py where front.py is
missing, app.py where serve.py is) for the baseline.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from playwright.async_api import async_playwright

from bench.niceness import CHROMIUM_PATH, chromium_at_nice, keep_browsers_niced  # noqa: F401  (tests read them here)
from bench.niceness import autogroup, niced_autogroup, parsed_autogroup  # noqa: F401
from bench.processes import browser_cpu, cpu, parent_and_cpu_s, rss_mb, tree, web_servers  # noqa: F401
from bench.servers import ROOT, bare_server, start_server, streamlit_server, wait_healthy, wait_until_idle  # noqa: F401

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-background-timer-throttling", "--disable-renderer-backgrounding"]
STEP_MS = 180_000  # a page step that takes longer than this counts as a failed session
RUN_MS = int(os.environ.get("LOAD_RUN_WAIT_S", "900")) * 1000  # a run may wait this long for a worker
SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
OWN_RUN_DONE = re.compile(r"^Run #\d+, seed \d+: ")
CHART_DRAWN = '[data-testid="stPlotlyChart"] .main-svg'
def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


async def _open(page, url: str, path: str, link: str, by_address: bool) -> None:
    """Go to a page as a visitor does (the sidebar link: same session, no reload), or by its
    address (a full reload and a new session, as the first version of this benchmark did)."""
    if by_address:
        await page.goto(f"{url}/{path}", timeout=STEP_MS)
    else:
        await page.get_by_role("link", name=link).click(timeout=STEP_MS)


async def _session(browser, url: str, number: int, out: dict, by_address: bool, think_s: float) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    step = "first page"
    try:
        tick = time.perf_counter()
        await page.goto(url, timeout=STEP_MS)
        await page.get_by_text("Why it is in the news").wait_for(timeout=STEP_MS)
        out["first_page"].append(time.perf_counter() - tick)
        step = "soft targets"
        await _open(page, url, "soft_targets", "2. Soft targets", by_address)
        await page.get_by_text("its second choice").first.wait_for(timeout=STEP_MS)
        await page.wait_for_selector(SETTLED, timeout=STEP_MS)
        # A visitor looks at the chart before moving the slider. The chart library (4.7 MB of
        # JavaScript) loads only once the page has settled; without this wait the first moves
        # would time that load in this tab instead of a re-render.
        await page.wait_for_selector(CHART_DRAWN, timeout=STEP_MS)
        await page.get_by_role("slider", name="Temperature T").focus(timeout=STEP_MS)
        for move in range(1, 6):  # T starts at 4; each ArrowRight adds 0.5
            await asyncio.sleep(think_s)  # a visitor reads the chart before the next move
            tick = time.perf_counter()
            await page.keyboard.press("ArrowRight")
            await page.get_by_text(f"At T = {4 + 0.5 * move:g}").first.wait_for(timeout=STEP_MS)
            out["slider"].append(time.perf_counter() - tick)
            out["slider_moves"].append((number, move, round(tick - out["t0"], 2), round(time.perf_counter() - tick, 2)))
        step = "distil form"
        await _open(page, url, "distill", "3. Distil a student", by_address)
        await page.get_by_label("Transfer-set size").wait_for(timeout=STEP_MS)
        await page.get_by_label("Transfer-set size").fill("500")
        await page.get_by_label("Epochs (passes over the transfer set)").fill("3")
        name = f"load-{number}"
        await page.get_by_label("Name for the leaderboard").fill(name)
        await page.get_by_role("button", name="Distil").click()
        out["submitted"] += 1
        step = "waiting for the run"
        # The visitor's own run, finished (the stored default's "Scratch twin" is on screen before it).
        await page.get_by_text(OWN_RUN_DONE).first.wait_for(timeout=RUN_MS)
        out["finished"] += 1
        out["exceptions"] += await page.locator('[data-testid="stException"]').count()
        step = "compare"
        # Through the sidebar, as a visitor would: a reload would start a new session, which is not the
        # run's owner, and would have to find its row in the whole room's leaderboard.
        await page.get_by_role("link", name="4. Compare runs").click()
        await page.wait_for_selector(SETTLED, timeout=STEP_MS)
        cell = page.locator('[data-testid="stDataFrame"] [role="gridcell"]', has_text=name)
        await cell.first.wait_for(state="attached", timeout=STEP_MS)
        out["shown"] += 1
        out["exceptions"] += await page.locator('[data-testid="stException"]').count()
    except Exception as error:  # a session that fails is counted, not fatal to the benchmark
        out["errors"].append(f"session {number} at {step}: {type(error).__name__}: {str(error).splitlines()[0][:120]}")
        out["exceptions"] += await page.locator('[data-testid="stException"]').count()
    finally:
        await context.close()


async def _drive(url: str, sessions: int, by_address: bool, think_s: float) -> dict:
    out = {"t0": time.perf_counter(), "slider_moves": [], "first_page": [], "slider": [], "submitted": 0,
           "finished": 0, "shown": 0, "exceptions": 0, "errors": []}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM_PATH[0], args=CHROMIUM_ARGS)
        before = browser_cpu()
        await asyncio.gather(*(_session(browser, url, n, out, by_address, think_s) for n in range(sessions)))
        out["browser_cpu"] = browser_cpu() - before
        await browser.close()
    return out


async def _drive_light(port: int, url: str, sessions: int, browsers: int, think_s: float) -> dict:
    """`sessions` light protocol visitors (bench/protocol.py) and `browsers` real Chromium sessions
    at once: the room as the server sees it, plus what a browser adds."""
    from bench.protocol import visit
    out = {"t0": time.perf_counter(), "slider_moves": [], "first_page": [], "slider": [], "submitted": 0,
           "finished": 0, "shown": 0, "exceptions": 0, "errors": [], "browser_cpu": 0.0}
    client_before = time.process_time()

    async def browsers_too() -> None:
        if not browsers:
            return
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM_PATH[0], args=CHROMIUM_ARGS)
            before = browser_cpu()
            await asyncio.gather(*(_session(browser, url, sessions + n, out, False, think_s) for n in range(browsers)))
            out["browser_cpu"] = browser_cpu() - before
            await browser.close()

    late: list[float] = []

    async def watch_own_loop() -> None:
        """How late this client's own event loop wakes: time a move spends here, not at the server."""
        while True:
            tick = time.perf_counter()
            await asyncio.sleep(0.01)
            late.append(time.perf_counter() - tick - 0.01)

    watcher = asyncio.create_task(watch_own_loop())
    visits, _ = await asyncio.gather(asyncio.gather(*(visit(port, n) for n in range(sessions))), browsers_too())
    watcher.cancel()
    browser_part = {"first_page": out["first_page"], "slider": out["slider"], "submitted": out["submitted"],
                    "finished": out["finished"], "shown": out["shown"], "exceptions": out["exceptions"],
                    "errors": out["errors"]}
    return {"t0": out["t0"], "slider_moves": [], "browser_cpu": out["browser_cpu"],
            "client_loop_late_s": {"max": round(max(late, default=0.0), 3), "p99": round(_percentile(late, 0.99), 3)},
            "first_page": [v.first_page_s for v in visits if v.first_page_s is not None],
            "slider": [s for v in visits for s in v.slider_s],
            "submitted": sum(v.submitted for v in visits) + browser_part["submitted"],
            "finished": sum(v.finished for v in visits) + browser_part["finished"],
            "shown": sum(v.shown_to_owner for v in visits) + browser_part["shown"],
            "listed_on_compare": sum(v.listed_on_compare for v in visits),
            "done_when_first_drawn": sum(v.done_when_first_drawn for v in visits),
            "exceptions": sum(v.exceptions for v in visits) + browser_part["exceptions"],
            "errors": [v.error for v in visits if v.error] + browser_part["errors"],
            "browsers": browser_part, "client_cpu": time.process_time() - client_before}


def _bare_baseline(sessions: int, env: dict, nagle: bool = False) -> dict:
    """The same number of light visitors moving a slider on a bare Streamlit app, on a fresh server
    of its own (bare_server): Streamlit's own cost of a full room, measured in the same run."""
    from bench.protocol import bare_visit
    with bare_server(env, nagle) as (port, _):
        async def room():
            return await asyncio.gather(*(bare_visit(port) for _ in range(sessions)))
        visits = asyncio.run(room())
    return {"first_page_s": _summary([v.first_page_s for v in visits if v.first_page_s is not None], 2),
            "slider_rerender_s": _summary([s for v in visits for s in v.slider_s], 3),
            "errors": [v.error for v in visits if v.error]}


def _summary(values: list[float], digits: int) -> dict:
    return {"median": round(statistics.median(values), digits) if values else None,
            "p95": round(_percentile(values, 0.95), digits) if values else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of sessions against the same server; memory is read after each")
    parser.add_argument("--by-address", action="store_true",
                        help="open Soft targets and Distil by their addresses (a reload each) instead of the sidebar")
    parser.add_argument("--think-s", type=float, default=0.0,
                        help="pause before each slider move, as a visitor reading the chart (0: move at once)")
    parser.add_argument("--settle-s", type=float, default=10.0, help="wait after the sessions close, then read memory")
    parser.add_argument("--moves", action="store_true", help="also print every slider move (session, move, start, s)")
    parser.add_argument("--clients", choices=("browser", "protocol"), default="browser",
                        help="browser: every session a Chromium tab; protocol: light sessions speaking Streamlit's "
                             "own protocol (bench/protocol.py), as the server sees a room whose browsers run elsewhere")
    parser.add_argument("--browsers", type=int, default=2,
                        help="with --clients protocol: real Chromium sessions beside the light ones")
    parser.add_argument("--browser-nice", type=int, default=0,
                        help="run the Chromium sessions (every thread and their scheduler group, kept so) at this niceness; 10: they yield this machine's cores to "
                             "the server, as browsers on the visitors' own laptops take nothing from it")
    parser.add_argument("--servers", type=int, default=None,
                        help="lab servers behind front.py (default: front.py's own, one per core)")
    args = parser.parse_args()
    CHROMIUM_PATH[0] = chromium_at_nice(args.browser_nice)
    state = tempfile.mkdtemp(prefix="load-state-")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DISTILL_STATE": state, "DISTILL_SESSION_JOBS": "3"}
    server, url = start_server(env, args.servers)
    servers = len(web_servers(server.pid)) - 1 or 1  # the front's servers, or the one server
    peak = {"mb": 0.0}
    stop = threading.Event()
    rounds, totals = [], {"first_page": [], "slider": [], "slider_moves": [], "browser_cpu": 0.0}
    light = args.clients == "protocol"
    browsers_totals = {"first_page": [], "slider": [], "submitted": 0, "finished": 0, "shown": 0, "exceptions": 0}
    client_cpu, listed, done_first, client_late = 0.0, 0, 0, []
    try:
        wait_until_idle(server.pid)
        before_mb = rss_mb(tree(server.pid))
        cpu_before = cpu(server.pid)

        def sample() -> None:
            while not stop.wait(0.5):
                peak["mb"] = max(peak["mb"], rss_mb(tree(server.pid)))

        threading.Thread(target=sample, daemon=True).start()
        if args.browser_nice:
            threading.Thread(target=keep_browsers_niced, args=(args.browser_nice, stop), daemon=True).start()
        started = time.perf_counter()
        for _ in range(args.rounds):
            if light:
                out = asyncio.run(_drive_light(int(url.rsplit(":", 1)[1]), url, args.sessions, args.browsers,
                                               args.think_s))
                client_cpu += out["client_cpu"]
                client_late.append(out["client_loop_late_s"])
                listed += out["listed_on_compare"]
                done_first += out["done_when_first_drawn"]
                for key in browsers_totals:
                    browsers_totals[key] += out["browsers"][key]
            else:
                out = asyncio.run(_drive(url, args.sessions, args.by_address, args.think_s))
            for key in totals:
                totals[key] += out[key]
            time.sleep(args.settle_s)
            rounds.append({"runs": {"submitted": out["submitted"], "finished": out["finished"],
                                    "shown_to_owner": out["shown"]},
                           "first_page_s": _summary(out["first_page"], 2), "slider_rerender_s": _summary(out["slider"], 3),
                           "exceptions_seen": out["exceptions"], "session_errors": out["errors"],
                           "memory_after_mb": rss_mb(tree(server.pid)),
                           "server_alone_after_mb": rss_mb(web_servers(server.pid))})
        wall = time.perf_counter() - started
        cpu_after = cpu(server.pid)
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=60)
    server_cpu = cpu_after[0] - cpu_before[0]
    visits = max(1, args.sessions * args.rounds)
    report = {
        "sessions": args.sessions, "rounds": args.rounds, "think_s": args.think_s, "servers": servers,
        "navigation": "address" if args.by_address else "sidebar", "browser_nice": args.browser_nice,
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(),
        "wall_s": round(wall, 1),
        "first_page_s": _summary(totals["first_page"], 2),
        "slider_rerender_s": _summary(totals["slider"], 3),
        "runs": {key: sum(r["runs"][key] for r in rounds) for key in ("submitted", "finished", "shown_to_owner")},
        "exceptions_seen": sum(r["exceptions_seen"] for r in rounds),
        "session_errors": [e for r in rounds for e in r["session_errors"]],
        # Spent before the first visitor (start-up, and preparing the room where the server does so).
        "start_up_cpu_s": {"server": round(cpu_before[0], 1), "workers": round(cpu_before[1], 1)},
        "cpu_s": {"server": round(server_cpu, 1), "server_per_session": round(server_cpu / visits, 2),
                  "workers": round(cpu_after[1] - cpu_before[1], 1),
                  "browsers_and_driver": round(totals["browser_cpu"], 1)},
        "each_round": [{key: r[key] for key in ("first_page_s", "slider_rerender_s")} for r in rounds],
        "memory_mb": {"before": before_mb, "peak": peak["mb"], "after": rounds[-1]["memory_after_mb"],
                      "after_each_round": [r["memory_after_mb"] for r in rounds],
                      "server_alone_after_each_round": [r["server_alone_after_mb"] for r in rounds]},
    }
    if light:
        report["clients"] = f"{args.sessions} light protocol sessions and {args.browsers} Chromium sessions"
        report["runs"]["listed_on_compare"] = listed  # of the light sessions' runs
        # of those, finished before the submit's own page read them back (shown as a result at once)
        report["runs"]["done_when_first_drawn"] = done_first
        report["browsers"] = {"first_page_s": _summary(browsers_totals["first_page"], 2),
                              "slider_rerender_s": _summary(browsers_totals["slider"], 3),
                              "runs": {"submitted": browsers_totals["submitted"], "finished": browsers_totals["finished"],
                                       "shown_to_owner": browsers_totals["shown"]},
                              "exceptions_seen": browsers_totals["exceptions"]}
        report["cpu_s"]["load_client"] = round(client_cpu, 1)
        report["load_client_loop_late_s"] = client_late  # each round: how late the client itself read replies
        report["baseline_bare_streamlit"] = _bare_baseline(args.sessions, env)
        # What serve.py's TCP_NODELAY mend is worth, on the same bare app in the same run.
        report["baseline_bare_streamlit_with_nagle"] = _bare_baseline(args.sessions, env, nagle=True)
        report["cpu_s"]["server_per_session"] = round(server_cpu / ((args.sessions + args.browsers) * args.rounds), 2)
    if args.moves:
        report["slider_moves"] = sorted(totals["slider_moves"], key=lambda move: move[2])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
