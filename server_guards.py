"""ASGI middleware for the lab's shared server (serve.py): what Streamlit lets any client do that a
room must not allow, and addresses it answers with a blank page.

Streamlit answers any unknown address with its page, which loads its scripts by relative URLs; at
a two-segment address such as /compare/extra those resolve to /compare/static/..., get the page
back instead of scripts, and the visitor sees a blank white page. So any such address is
redirected to the start page, which says why.

Streamlit's server (1.67, uvicorn underneath) binds its listening socket without naming TCP as its
protocol (socket.socket(family) leaves proto at 0), and asyncio turns Nagle's algorithm off only on
sockets that say IPPROTO_TCP. So on every connection Nagle stayed on: a reply of several small
messages sent the first at once and held the rest for the visitor's delayed ACK (40 ms on Linux),
47 ms for a slider move that costs the server 6 ms. `accept_without_nagle` mends that (the same flaw
as uvicorn issue #3149).

Streamlit answers every BackMsg a browser tab may send, developer messages included: `clear_cache`
empties every cache of the server for the whole room, and each `load_git_info` runs several `git`
processes on the server's event loop (about 20 ms each: 1,000 of them froze every visitor's slider
for 21 s). So the guard lets through only the message kinds a lab page needs (an allow-list: a kind
a later Streamlit adds is dropped until it is known to be harmless) and counts what it drops.
"""
from __future__ import annotations

import logging
import socket
from asyncio import base_events
from collections import Counter

from starlette.responses import RedirectResponse
from streamlit.proto.BackMsg_pb2 import BackMsg

_LOGGER = logging.getLogger(__name__)
# The BackMsg kinds a visitor's tab needs: widget changes and reruns, the stop button, upload
# addresses, the heartbeat, and the custom components' backend requests (the drawing pad).
ALLOWED = frozenset({"rerun_script", "stop_script", "file_urls_request", "app_heartbeat", "backend_operation_request"})
DROPPED_COUNTS: Counter = Counter()  # kind -> messages dropped by this server since it started


def accept_without_nagle() -> None:
    """Every TCP connection the server accepts from now on sends small messages at once (TCP_NODELAY),
    whatever the listening socket's proto says. asyncio calls base_events._set_nodelay on each
    accepted socket; this widens its check from proto == IPPROTO_TCP to any stream socket of an
    internet family, which is what TCP is. Call it before the server accepts (serve.py does, as
    uvicorn imports it); calling it again changes nothing."""
    if getattr(base_events._set_nodelay, "any_tcp_socket", False):
        return
    checked = base_events._set_nodelay

    def set_nodelay(sock: socket.socket) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:
            checked(sock)

    set_nodelay.any_tcp_socket = True
    base_events._set_nodelay = set_nodelay


def dropped_type(frame: bytes) -> str | None:
    """The frame's BackMsg type when it is not one a page needs ("none" for a message of no type);
    None for an allowed one, and for a frame that does not parse, which Streamlit itself refuses."""
    message = BackMsg()
    try:
        message.ParseFromString(frame)
    except Exception:  # protobuf raises DecodeError and others; Streamlit closes such a socket itself
        return None
    kind = message.WhichOneof("type") or "none"
    return None if kind in ALLOWED else kind


class DropVisitorMessages:
    """Read each WebSocket frame on Streamlit's stream before Streamlit does; skip the dropped kinds."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket" or not scope.get("path", "").endswith("/_stcore/stream"):
            await self.app(scope, receive, send)
            return

        mine: Counter = Counter()

        async def filtered_receive():
            while True:
                message = await receive()
                frame = message.get("bytes") if message.get("type") == "websocket.receive" else None
                kind = dropped_type(frame) if frame else None
                if kind is None:
                    return message
                DROPPED_COUNTS[kind] += 1
                mine[kind] += 1
                if mine[kind] == 1:  # once per connection and kind: a flood must not become a log flood
                    _LOGGER.warning("dropped a %s message from a visitor", kind)

        try:
            await self.app(scope, filtered_receive, send)
        finally:
            if mine:
                _LOGGER.warning("dropped %d message(s) from this visitor: %s", sum(mine.values()),
                                ", ".join(f"{kind} {count}" for kind, count in sorted(mine.items())))


FIRST_SEGMENT_ROUTES = {"_stcore", "static", "media", "component", "app"}  # app/static: static file serving
UNKNOWN_ADDRESS = "/?address=unknown"


def deep_unknown(path: str) -> bool:
    """A path of two or more segments that Streamlit does not serve: its own routes live at the
    top (/static/..., /_stcore/...), and the page probes for its server below the page's own path
    (/distill/_stcore/health). A route's name elsewhere (/distill/static, /a/component/b) is not
    Streamlit's, and answering it with the page gives a blank one."""
    segments = [part for part in path.split("/") if part]
    if len(segments) < 2 or segments[0] in FIRST_SEGMENT_ROUTES:
        return False
    return not (len(segments) >= 3 and segments[1] == "_stcore")


class UnknownAddresses:
    """ASGI middleware: GET or HEAD of a deep unknown path -> the start page with a note."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"):
            if deep_unknown(scope["path"]):
                await RedirectResponse(UNKNOWN_ADDRESS, status_code=302)(scope, receive, send)
                return
        await self.app(scope, receive, send)
