"""What every page shares: the process-wide job pool, store, dataset and teacher choice.

Only read-only objects are cached process-wide (see ../shared/guide/streamlit.md); per-tab state
is the small `teacher` string in st.session_state.
"""
from __future__ import annotations

import functools
import gc
import sys
import time
import uuid

import streamlit as st

from lessons.figures import drawn_once
from lessons.room import store
from models.base.configs import MAX_SEEDS, StoreError
from models.core.data import Dataset, default_dataset
from models.service.lifecycle import room_pool
from models.service.budget import in_words, time_left_s
from models.service.room import room_limits
from models.service.guesses import QUESTIONS
from models.service.visitors import server_slot, visitor_id, visitor_seed
from models.service.scheduler import JobPool
from models.service.names import without_paths
from models.service.store import FINISHED
from models.service.stored_defaults import stored_defaults
from models.core.checkpoints import TeacherError, TeacherLogits, teacher_logits

XSRF_COOKIE = "_streamlit_xsrf"  # set by Streamlit on every browser (server.enableXsrfProtection)
POLL_RUNNING_S = 1.0
POLL_QUEUED_S = 3.0  # a queued run changes rarely: poll it less often
POLL_LONG_WAIT_S = 10.0  # ...and a run a minute or more from starting, less often still
POLL_GROUP_S = 2.0
MEMO_FIGURES = 6
TERMINAL_NOTES = {
    "cancelled": "Cancelled.",
    "failed": "Failed: {error}",
    "interrupted": "Interrupted: {error}. Start it again to get a result.",
}


def pool() -> JobPool:
    """The server's one job pool: this machine's workers, or a Dask cluster's ($DISTILL_CLUSTER).
    A process singleton (models/service/lifecycle.py), not a cached resource: a visitor's
    clear_cache message must not build a second pool beside the first. It stops at exit."""
    return room_pool(store())


@st.cache_resource(show_spinner="Loading MNIST…")
def dataset() -> Dataset:
    return default_dataset()


def prepare_room() -> None:
    """What a room's first pages need, made once as the server starts (serve.py calls this in a
    thread): the job pool with its workers spawned, the dataset, and the default teacher's answers.
    Otherwise these seconds of CPU land on the first visitors, while they move their sliders."""
    try:
        import lessons.figures  # noqa: F401  (plotly, pandas and pyarrow: else the first visitors' pages import them)
        pool()
        # The engine's own caches, which the pages' share: no page spinner outside a page.
        teacher_logits(room_limits(store()).teacher or "pretrained", default_dataset())
    except (StoreError, TeacherError):  # every page says why; each is made again when first needed
        return
    finally:
        serve_on_one_thread()
    print("The room is ready: workers started, the teacher's answers computed.", file=sys.stderr, flush=True)


def serve_on_one_thread() -> None:
    """Torch in the web server on one thread from now on: training happens in the workers. Each page
    run is a new script thread, and a multi-threaded torch op there started a fresh OpenMP team: on
    the Soft targets page, ranking one digit's test images by the teacher's confidence was 62 % of
    the page's server time (py-spy), for a sum over a thousand rows."""
    import torch
    torch.set_num_threads(1)
    # Everything loaded so far (torch, plotly, the dataset, the teacher's answers) lives as long as the
    # server: out of the collector's sight, a full collection no longer walks it in a visitor's wait.
    gc.freeze()


def session_owner() -> str:
    """This visitor's id, from their browser's cookie (models/service/visitors.py): every tab and
    reload of one browser shares one share of the room, and may cancel its runs."""
    if "owner" not in st.session_state:
        st.session_state.owner = visitor_id(st.context.cookies.get(XSRF_COOKIE))
    return st.session_state.owner


def default_seed() -> int:
    """This visitor's own starting seed on the Distil page (models/service/visitors.py: visitor_seed)."""
    return visitor_seed(session_owner(), lambda: store().highest_seed("distill"), MAX_SEEDS, server_slot())


def my_runs() -> set[int]:
    """Runs this session submitted (kept small: ids only)."""
    return st.session_state.setdefault("my_runs", set())


def submit(configs: list, name: str = "", group: str = "") -> list[int]:
    """Submit one or several runs as one submission of this session. Raises ConfigError with a
    plain reason when the room's caps, its budget or this session's share of the workers say no."""
    ids = pool().submit_many(configs, name, group, owner=session_owner())
    my_runs().update(ids)
    st.toast(f"Queued: {in_words(cost_s(configs))} of the room's worker time.", icon=":material/schedule:")
    return ids


def keep_guess(run_id: int, question: str, answer: str | None) -> None:
    """Store the visitor's guess with the run it was made for (nothing when they made none). A guess
    never blocks a run: a store that cannot take it loses only the guess. Only the question's own
    options are kept: a client may send any widget value, and the room board counts by option."""
    if answer in QUESTIONS[question].options:
        try:
            store().add_guess(run_id, question, answer, session_owner())
        except StoreError:
            pass


def guess_for(run_id: int, question: str) -> str | None:
    try:
        return store().guesses(question).get(run_id) if run_id > 0 else None
    except StoreError:
        return None


def cost_s(configs: list) -> float:
    """Estimated worker-seconds of a submission at this machine's pace (models/service/budget.py)."""
    return pool().cost_s(configs)


def cost_words(configs: list) -> str:
    """'about 3 minutes': a submission's estimated cost in words."""
    return in_words(cost_s(configs))


def cost_caption(configs: list, settings: str = "these settings") -> None:
    """What a submission will cost the room, said before it is sent, beside the room's budget."""
    budget_s = room_limits(store()).budget_s
    allowed = f"; one submission may use up to {in_words(budget_s).removeprefix('about ')}" if budget_s else ""
    st.caption(f"At {settings}: {in_words(cost_s(configs))} of the room's worker time, estimated from this "
               f"machine's measured pace{allowed}.")


def new_group(kind: str) -> str:
    """A fresh group id for runs submitted together (seeds of one setting, a sweep, a curve)."""
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def dataset_caption() -> None:
    data = dataset()
    (st.warning if data.notice else st.caption)(f"Data: {data.describe()}")


def chosen_teacher() -> str:
    """The teacher the facilitator pinned for the room; else 'pretrained' unless this tab picked one."""
    return room_limits(store()).teacher or st.session_state.setdefault("teacher", "pretrained")


def logits_or_stop(spec: str) -> TeacherLogits:
    """The teacher's logits (cached by the engine in memory and on disk), or a clear message and a
    stop when the checkpoint is unusable."""
    try:
        with st.spinner("Computing the teacher's answers…"):
            return teacher_logits(spec, dataset())
    except TeacherError as error:
        st.error(without_paths(error))
        st.page_link("lessons/teacher.py", label="Go to the Teacher page to train one", icon=":material/school:")
        st.stop()


def show_terminal(run) -> None:
    if run.status in TERMINAL_NOTES:
        st.warning(TERMINAL_NOTES[run.status].format(error=without_paths(run.error) or "no reason recorded"))


def cached_chart(key: str, version, build) -> None:
    """Draw a plotly figure, building it again only when `version` changed: a waiting page polls
    every second or so, and rebuilding an unchanged figure each time is most of what waiting costs."""
    memo = st.session_state.setdefault("_figures", {})
    if key not in memo or memo[key][0] != version:
        memo.pop(key, None)
        while len(memo) >= MEMO_FIGURES:  # keep per-session state small
            memo.pop(next(iter(memo)))
        memo[key] = (version, drawn_once(build()))  # each poll's draw then skips plotly's deep copy
    st.plotly_chart(memo[key][1], key=key)


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
        left = time_left_s(run.elapsed, run.progress.fraction, pool().cost_s([run.config]))
        where = f"{run.progress.stage}, {run.progress.fraction:.0%} done" if run.progress.of else "starting"
        return (f"Run {run.id}: training ({where}): {in_words(run.elapsed).removeprefix('about ')} so far, "
                f"{in_words(left)} left. It keeps going if you change page or close this tab.")
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
    st.info(f"**The stored default result** for this page's default settings, {stored.describe()}. Press "
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
    left = time_left_s(elapsed, done, (total - done * total) / max(1, pool().workers))
    return f"{in_words(elapsed).removeprefix('about ')} so far, {in_words(left)} left"


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
