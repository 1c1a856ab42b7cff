"""A light Streamlit client for tests: one WebSocket session on /_stcore/stream speaking the installed
`streamlit.proto` messages, as a browser tab would (and as a hostile one could)."""
from __future__ import annotations

import asyncio

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


def back_message(kind: str, **fields) -> bytes:
    """A BackMsg of this oneof type: rerun_script (fields go to its ClientState), clear_cache, ..."""
    message = BackMsg()
    if kind == "rerun_script":
        message.rerun_script.query_string = fields.get("query_string", "")
        message.rerun_script.page_script_hash = fields.get("page_script_hash", "")
    else:
        setattr(message, kind, True)
    return message.SerializeToString()


class Session:
    def __init__(self, port: int):
        self.port = port
        self.socket = None

    async def __aenter__(self) -> "Session":
        self.socket = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/_stcore/stream", subprotocols=["streamlit"],
            origin=f"http://127.0.0.1:{self.port}", max_size=None)
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
        seen = []
        async with asyncio.timeout(timeout_s):
            while True:
                message = ForwardMsg()
                message.ParseFromString(await self.socket.recv())
                seen.append(message)
                if message.WhichOneof("type") == kind:
                    return seen
