"""ASGI middleware for the lab's shared server (serve.py): what Streamlit lets any client do that a
room must not allow.

Streamlit answers every BackMsg a browser tab may send, and `clear_cache` needs no developer mode:
one message from any visitor empties every st.cache_data and st.cache_resource of the server, for
the whole room (the teacher's answers are computed again, on the room's time). The lab's pool and
store are process singletons that no cache clear can rebuild; this drops the message before
Streamlit sees it, so a visitor cannot empty the room's caches either.
"""
from __future__ import annotations

import logging

from streamlit.proto.BackMsg_pb2 import BackMsg

_LOGGER = logging.getLogger(__name__)
DROPPED = frozenset({"clear_cache"})  # BackMsg types no visitor may send


def dropped_type(frame: bytes) -> str | None:
    """The frame's BackMsg type when it is one a visitor may not send; None otherwise (and for a
    frame that does not parse, which Streamlit itself refuses)."""
    message = BackMsg()
    try:
        message.ParseFromString(frame)
    except Exception:  # protobuf raises DecodeError and others; Streamlit closes such a socket itself
        return None
    kind = message.WhichOneof("type")
    return kind if kind in DROPPED else None


class DropVisitorMessages:
    """Read each WebSocket frame on Streamlit's stream before Streamlit does; skip the dropped kinds."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket" or not scope.get("path", "").endswith("/_stcore/stream"):
            await self.app(scope, receive, send)
            return

        async def filtered_receive():
            while True:
                message = await receive()
                frame = message.get("bytes") if message.get("type") == "websocket.receive" else None
                kind = dropped_type(frame) if frame else None
                if kind is None:
                    return message
                _LOGGER.warning("dropped a %s message from a visitor", kind)

        await self.app(scope, filtered_receive, send)
