"""Watching runs on a page: a run's live progress and its ending, a group's, the stored default a page
opens on, and the visitor's other runs, polled in fragments so the rest of the page stays still."""
from __future__ import annotations

import functools
import time

import streamlit as st

from lessons.shared import my_runs, pool, session_owner, store
from models.base.configs import StoreError
from models.service.budget import TimeLeft, in_words, steady, time_left
from models.service.names import without_paths
from models.service.store import FINISHED
from models.service.stored_defaults import stored_defaults

POLL_RUNNING_S = 1.0
POLL_QUEUED_S = 3.0  # a queued run changes rarely: poll it less often
POLL_LONG_WAIT_S = 10.0  # ...and a run a minute or more from starting, less often still
POLL_GROUP_S = 2.0
TERMINAL_NOTES = {
    "cancelled": "Cancelled.",
    "failed": "Failed: {error}",
    "interrupted": "Interrupted: {error}. Start it again to get a result.",
}


def show_terminal(run) -> None:
    if run.status in TERMINAL_NOTES:
        st.warning(TERMINAL_NOTES[run.status].format(error=without_paths(run.error) or "no reason recorded"))


def _store_faults_shown(fragment):
    """A fragment reruns on its own, outside the app's handler: show a store fault in place."""
    @functools.wraps(fragment)
    def guarded():
        try:
            fragment()
        except StoreError as error:
            st.error(without_paths(error))
    return guarded


def _wait_note(run) -> str:
    if run.status == "running":
        estimate = pool().cost_s([run.config]) * pool().pace_now()  # this machine's pace under the room's load
        left = _steady_left(("run", run.id), time_left(run.elapsed, run.progress.fraction, estimate))
        where = f"{run.progress.stage}, {run.progress.fraction:.0%} done" if run.progress.of else "starting"
        return (f"Run {run.id}: training ({where}): {in_words(run.elapsed).removeprefix('about ')} so far, "
                f"{left.words()}. It keeps going if you change page or close this tab.")
    place = pool().queue_places().get(run.id)
    where = f" You are number {place.place} in line, about {place.wait_s:.0f} s to go." if place else ""
    return f"Run {run.id}: waiting for a free worker.{where} It keeps going if you change page or close this tab."


_STORED_FIGURES: dict[tuple, object] = {}


def run_figure(run, build):
    """A finished run's figure: a stored default's is built once for the whole server (it never
    changes, and every new visitor's page draws it), anyone else's each time."""
    if run.id >= 0:
        return build()
    key = (run.kind, run.id, id(run.result))  # one stored file's runs live as long as the server
    if key not in _STORED_FIGURES:
        _STORED_FIGURES[key] = build()
    return _STORED_FIGURES[key]


def show_stored_default(page: str, draw, button: str) -> bool:
    """The page's shipped default result (models/service/stored_defaults.py), drawn at once and said
    to be that, so a visitor sees a measured answer before anything trains. False when none is shipped."""
    stored = stored_defaults()
    runs = stored.runs.get(page, []) if stored else []
    if not runs:
        return False
    st.info(f"**The stored default result** for this page's default settings, {stored.describe(page)}. Press "
            f"*{button}* to train it yourself, live.", icon=":material/inventory_2:")
    draw(runs)
    return True


def _queued_poll_s(run_id: int) -> float:
    """How often a waiting run's page asks about it: every POLL_QUEUED_S near the front of the line,
    up to POLL_LONG_WAIT_S when the wait is long (a sixth of it). In a full room the waiting
    visitors' polls were most of the server's work, and slowed everyone's sliders."""
    place = pool().queue_places().get(run_id)
    return max(POLL_QUEUED_S, min(POLL_LONG_WAIT_S, place.wait_s / 6)) if place else POLL_QUEUED_S


def watch_run(run_id: int, draw_live, draw_done) -> None:
    """Poll one run from the store: live view with a Cancel button (for its owner), then the finished view.

    The polling fragment reruns only itself, so sliders elsewhere on the page stay responsive;
    moving them, switching pages or closing the tab never touches the job. It reads only the
    run's status and update time until something changed, and polls a queued run less often.
    """
    first = store().get(run_id)
    if first is None:
        return
    every = None if first.finished else POLL_RUNNING_S if first.status == "running" else _queued_poll_s(run_id)
    seen = {"peek": None, "run": first}

    @st.fragment(run_every=every)
    @_store_faults_shown
    def _poll():
        peek = store().peek(run_id)
        if peek != seen["peek"]:
            seen["peek"], seen["run"] = peek, store().get(run_id)
        run = seen["run"]
        if run.finished:
            if not first.finished:
                st.rerun(scope="app")  # stop polling: redraw the page once, without the timer
            show_terminal(run)
            if run.status == "done":
                draw_done(run)
            return
        if run.status != first.status:
            st.rerun(scope="app")  # started: poll at the running pace from now on
        st.info(_wait_note(run))
        draw_live(run)
        if run.owner == session_owner() and st.button("Cancel this run", key=f"cancel-{run_id}"):
            pool().cancel(run_id, session_owner())
            st.toast(f"Asked run {run_id} to stop.")

    _poll()
    _your_other_runs({run_id})


def _group_time(run_ids: list[int], finished_ids: tuple, seen: dict) -> str:
    """A group's time so far and left: its jobs' own estimates weigh what is done (a sweep's cells
    differ in size), and once 5 % is done the group's own pace says how long the rest takes."""
    if "costs" not in seen:  # read the configs once per page view
        runs = store().get_many(run_ids)
        seen["costs"] = {r.id: max(pool().cost_s([r.config]), 0.1) for r in runs}
        seen["created"] = min((r.created for r in runs), default=time.time())
    costs = seen["costs"]
    total = sum(costs.values()) or 1.0
    done = sum(costs.get(i, 0.0) for i in finished_ids) / total
    elapsed = time.time() - seen["created"]
    estimate = total * pool().pace_now() / max(1, pool().workers)
    left = _steady_left(("group", run_ids[0]), time_left(elapsed, done, estimate))
    return f"{in_words(elapsed).removeprefix('about ')} so far, {left.words()}"


def _steady_left(key: tuple, new: TimeLeft) -> TimeLeft:
    """This session's last stated time left for a run or group, moved on by budget.steady: a page
    never states a rise larger than its own last margin."""
    shown = st.session_state.setdefault("_time_left", {})
    now = time.monotonic()
    before = shown.get(key)
    steady_left = steady(before[1] if before else None, now - before[0] if before else 0.0, new)
    shown[key] = (now, steady_left)
    return steady_left


def watch_group(run_ids: list[int], draw) -> None:
    """Poll a batch of jobs: progress, a Cancel-the-rest button (for its owner), and
    `draw(finished_runs)` as they land. Full rows are read only when another run has finished."""
    if not run_ids:
        return
    all_done_at_start = all(status in FINISHED for status, _ in store().peek_many(run_ids).values())
    seen = {"finished": None, "runs": []}

    @st.fragment(run_every=None if all_done_at_start else POLL_GROUP_S)
    @_store_faults_shown
    def _poll():
        peeks = store().peek_many(run_ids)
        finished_ids = tuple(i for i in run_ids if peeks.get(i, ("done",))[0] in FINISHED)
        if finished_ids != seen["finished"]:
            seen["finished"], seen["runs"] = finished_ids, store().get_many(list(finished_ids))
        finished = seen["runs"]
        if len(finished) < len(run_ids):
            st.progress(len(finished) / len(run_ids), text=f"{len(finished)} of {len(run_ids)} jobs finished "
                        f"({_group_time(run_ids, finished_ids, seen)}); results appear as they land. They keep "
                        "going if you leave this page.")
            mine = [i for i in run_ids if i not in finished_ids and i in my_runs()]
            if mine and st.button("Cancel the rest", key=f"cancel-group-{run_ids[0]}"):
                for run_id in mine:
                    pool().cancel(run_id, session_owner())
        elif not all_done_at_start:
            st.rerun(scope="app")
        troubles = [r for r in finished if r.status != "done"]
        if troubles:
            st.warning(f"{len(troubles)} job(s) did not finish: "
                       + "; ".join(f"#{r.id} {r.status} {without_paths(r.error)}".strip() for r in troubles[:3]))
        draw([r for r in finished if r.status == "done"])

    _poll()
    _your_other_runs(set(run_ids))


def _your_other_runs(shown: set[int]) -> None:
    """This visitor's earlier submissions, still queued or running, keep a Cancel button after a
    newer one took the page's place (from any tab of this browser)."""
    others = [run for run in store().list(owner=session_owner(), active=True) if run.id not in shown]
    if not others:
        return
    with st.expander(f"Your other runs still queued or running ({len(others)})"):
        for run in others:
            left, right = st.columns([4, 1])
            left.write(f"#{run.id} {run.kind} · {run.status}")
            if right.button("Cancel", key=f"cancel-other-{run.id}"):
                pool().cancel(run.id, session_owner())
                st.toast(f"Asked run {run.id} to stop.")
