"""A light visitor that speaks Streamlit's own protocol, as a browser tab does, without a browser:
one WebSocket session on /_stcore/stream, the installed `streamlit.proto` messages, the XSRF
cookie a browser carries (so each light visitor is its own visitor), widget ids read from the
deltas, and fragment reruns sent on the timer a browser would keep.

`visit()` is what one visitor of bench/load.py does: the start page, Soft targets with five moves
of its T slider, a small distillation on Distil (waited for, polling as the page's fragment asks),
and the run found on Compare. tests/system/test_protocol_load.py drives three of them.
"""
from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

XSRF_COOKIE = "_streamlit_xsrf"
STEP_S = 180.0  # one page step longer than this fails the visit
POLL_S = 1.0  # a polling fragment whose timer was not seen: the watch fragment's pace while a run trains
TEXT_KINDS = ("markdown", "alert", "heading", "text", "code")


def back_message(kind: str, **fields) -> bytes:
    """A BackMsg of this oneof type: rerun_script (fields go to its ClientState), clear_cache, ..."""
    message = BackMsg()
    if kind == "rerun_script":
        state = message.rerun_script
        state.query_string = fields.get("query_string", "")
        state.page_script_hash = fields.get("page_script_hash", "")
        state.fragment_id = fields.get("fragment_id", "")
        state.is_auto_rerun = fields.get("is_auto_rerun", False)
        for widget_id, kind_of_value, value in fields.get("widgets", ()):
            widget = state.widget_states.widgets.add()
            widget.id = widget_id
            if kind_of_value == "double_array_value":
                widget.double_array_value.data[:] = value
            else:
                setattr(widget, kind_of_value, value)
    elif BackMsg.DESCRIPTOR.fields_by_name[kind].message_type is not None:
        getattr(message, kind).SetInParent()  # a message-typed kind (file_urls_request, ...), sent empty
    else:
        setattr(message, kind, True)
    return message.SerializeToString()


@dataclass
class Page:
    """What one script run drew: widget ids by key (with the fragment each sits in), text, tables."""

    widgets: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (widget id, fragment id)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (text, fragment id)
    tables: list[bytes] = field(default_factory=list)
    exceptions: int = 0
    pages: dict[str, str] = field(default_factory=dict)  # url path -> page script hash
    timers: dict[str, float] = field(default_factory=dict)  # fragment id -> its run_every, as the server asked

    def add(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "navigation":
            self.pages.update({p.url_pathname: p.page_script_hash for p in message.navigation.app_pages})
        if kind == "auto_rerun":
            self.timers[message.auto_rerun.fragment_id] = message.auto_rerun.interval
        if kind != "delta" or message.delta.WhichOneof("type") != "new_element":
            return
        element, fragment = message.delta.new_element, message.delta.fragment_id
        which = element.WhichOneof("type")
        if which == "exception":
            self.exceptions += 1
        elif which in TEXT_KINDS:
            part = getattr(element, which)
            self.texts.append((part.code_text if which == "code" else part.body, fragment))
        elif which == "dataframe":
            self.tables.append(element.dataframe.arrow_data.data)
        else:
            widget_id = getattr(getattr(element, which), "id", "") if which else ""
            if widget_id.startswith("$$ID-"):
                self.widgets[widget_id.split("-", 2)[2]] = (widget_id, fragment)

    def text(self) -> str:
        return "\n".join(text for text, _ in self.texts)

    def fragment_of(self, pattern: str) -> str | None:
        """The fragment that drew the first text matching pattern."""
        return next((fragment for text, fragment in self.texts if re.search(pattern, text)), None)


def xsrf_cookie(port: int) -> str:
    """The cookie a browser gets before it opens the WebSocket: its first health check sets it."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=30) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith(XSRF_COOKIE + "="):
                return header.split(";", 1)[0]
    return ""


class Session:
    """One visitor's WebSocket session. cookie=False sends none (a script, not a browser); True asks
    the server for one, as a browser's first request does; a string is that cookie (another tab)."""

    def __init__(self, port: int, cookie: bool | str = False):
        self.port, self.cookie = port, cookie
        self.socket = None
        self.pages: dict[str, str] = {}
        self.page_hash = ""

    async def __aenter__(self) -> "Session":
        if self.cookie is True:
            self.cookie = await asyncio.to_thread(xsrf_cookie, self.port)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        self.socket = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/_stcore/stream", subprotocols=["streamlit"],
            origin=f"http://127.0.0.1:{self.port}", max_size=None, additional_headers=headers)
        return self

    async def __aexit__(self, *_):
        await self.socket.close()

    async def send(self, kind: str, **fields) -> None:
        await self.socket.send(back_message(kind, **fields))

    async def run_page(self, timeout_s: float = 60) -> list[ForwardMsg]:
        """Ask for a rerun and read the messages until the script finished; those messages."""
        await self.send("rerun_script")
        return await self.read_until("script_finished", timeout_s)

    async def read_until(self, kind: str, timeout_s: float) -> list[ForwardMsg]:
        """Messages up to the next `kind`; a script run that stopped early for a rerun is not the end
        (the rerun's own messages follow, as a browser waits for them)."""
        seen = []
        async with asyncio.timeout(timeout_s):
            while True:
                message = ForwardMsg()
                message.ParseFromString(await self.socket.recv())
                seen.append(message)
                if message.WhichOneof("type") == kind and not (
                        kind == "script_finished" and message.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN):
                    return seen

    async def rerun(self, page: str | None = None, widgets=(), fragment: str = "", auto: bool = False,
                    timeout_s: float = STEP_S) -> Page:
        """One script run (of `page`, by url path; else the page on screen) with these widget values."""
        if page is not None:
            self.page_hash = self.pages.get(page, "")
        await self.send("rerun_script", page_script_hash=self.page_hash, widgets=widgets, fragment_id=fragment,
                        is_auto_rerun=auto)
        drawn = Page()
        for message in await self.read_until("script_finished", timeout_s):
            drawn.add(message)
        self.pages.update(drawn.pages)
        return drawn


@dataclass
class Visit:
    """What one visitor saw: seconds for the first page and each slider move, and the run's fate."""

    first_page_s: float | None = None
    slider_s: list[float] = field(default_factory=list)
    submitted: bool = False
    finished: bool = False
    shown_to_owner: bool = False
    listed_on_compare: bool = False
    done_when_first_drawn: bool = False  # a worker had finished it before its page first read it back
    exceptions: int = 0
    error: str = ""


async def move_slider(session: Session, slider: tuple[str, str], moves: int, seconds: list[float]) -> int:
    """Move a T slider (its widget id, its fragment) from 4 up by 0.5, `moves` times, each a fragment
    rerun checked for its new sentence; each move's seconds go into `seconds`. Exceptions drawn."""
    slider_id, fragment = slider
    exceptions = 0
    for move in range(1, moves + 1):
        tick = time.perf_counter()
        moved = await session.rerun(widgets=[(slider_id, "double_array_value", [4 + 0.5 * move])], fragment=fragment)
        if f"At T = {4 + 0.5 * move:g}" not in moved.text():
            raise AssertionError(f"move {move} drew no new sentence")
        seconds.append(time.perf_counter() - tick)
        exceptions += moved.exceptions
    return exceptions


def submitted_run(text: str) -> int | None:
    """The run a Distil submit drew: "Run N: waiting/training …", or, when a worker finished it before
    the page first read it back (a small run in a busy room), already its result, "Run #N, seed S: …"
    (about one submit in 300 at 100 visitors, which the first version of this client called lost)."""
    found = re.search(r"Run (\d+): ", text) or re.search(r"^Run #(\d+), seed \d+: ", text, re.M)
    return int(found.group(1)) if found else None


async def visit(port: int, number: int, run_wait_s: float = 900.0, moves: int = 5,
                cookie: bool | str = True) -> Visit:
    """One light visitor's walk (see the module docstring); failures are recorded, not raised.
    cookie: a browser's own (True: asked for), or the one another tab of that browser carries."""
    seen, step = Visit(), "first page"
    try:
        async with Session(port, cookie=cookie) as session:
            tick = time.perf_counter()
            start = await session.rerun()
            seen.first_page_s, seen.exceptions = time.perf_counter() - tick, start.exceptions

            step = "soft targets"
            soft = await session.rerun("soft_targets")
            seen.exceptions += soft.exceptions
            seen.exceptions += await move_slider(session, soft.widgets["soft_temperature"], moves, seen.slider_s)

            step = "distil"
            form = await session.rerun("distill")
            name = f"light-{number}"
            widgets = [(form.widgets["train_size"][0], "int_value", 500), (form.widgets["epochs"][0], "int_value", 3),
                       (form.widgets["run_name"][0], "string_value", name),
                       (form.widgets["distill_submit"][0], "trigger_value", True)]
            sent = await session.rerun(widgets=widgets)
            seen.exceptions += sent.exceptions
            run_id = submitted_run(sent.text())
            if run_id is None:
                refused = re.search(r"Not started: .*", sent.text())
                raise AssertionError("the submit drew no run: " + (refused.group(0) if refused else sent.text()[:200]))
            seen.submitted = True
            seen.done_when_first_drawn = bool(re.search(rf"^Run #{run_id}, seed \d+: ", sent.text(), re.M))

            step = "waiting for the run"
            poll, page, timers = sent.fragment_of(rf"Run {run_id}: "), sent, dict(sent.timers)
            deadline = time.monotonic() + run_wait_s
            while not re.search(rf"^Run #{run_id}, seed \d+: ", page.text(), re.M):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"run {run_id} did not finish in {run_wait_s:g} s")
                # A browser reruns the fragment on the timer the page set: every second while the run
                # trains, less often while it waits in a long queue (lessons/shared.py: _queued_poll_s).
                await asyncio.sleep(timers.get(poll, POLL_S))
                page = await session.rerun(fragment=poll, auto=True)
                timers.update(page.timers)
                seen.exceptions += page.exceptions
                poll = page.fragment_of(rf"Run {run_id}: ") or poll
            seen.finished = seen.shown_to_owner = True

            step = "compare"
            compare = await session.rerun("compare")
            seen.exceptions += compare.exceptions
            seen.listed_on_compare = any(name.encode() in table for table in compare.tables)
    except Exception as error:  # a visit that fails is counted, not fatal to the benchmark
        seen.error = f"visitor {number} at {step}: {type(error).__name__}: {str(error)[:160]}"
    return seen


# The baseline beside the lab in one run: the same moves against the smallest Streamlit app that has
# a T slider in a fragment, so a reader sees how much of a full room's wait is Streamlit's own.
BARE_APP = '''
import streamlit as st


@st.fragment
def view():
    t = st.slider("Temperature T", 0.5, 20.0, 4.0, 0.5, key="bare_temperature")
    st.markdown(f"At T = {t:g} nothing else happens.")


st.title("Bare")
view()
'''


async def bare_visit(port: int, moves: int = 5) -> Visit:
    """The start of `visit` against BARE_APP: its page, then `moves` slider moves."""
    seen = Visit()
    try:
        async with Session(port, cookie=True) as session:
            tick = time.perf_counter()
            page = await session.rerun()
            seen.first_page_s = time.perf_counter() - tick
            await move_slider(session, page.widgets["bare_temperature"], moves, seen.slider_s)
    except Exception as error:
        seen.error = f"bare visitor at slider: {type(error).__name__}: {str(error)[:160]}"
    return seen
