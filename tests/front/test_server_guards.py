"""The server's guard against visitor messages a room must not obey, in-process: what reaches
Streamlit's app through the middleware and what does not."""
import asyncio

from server_guards import DropVisitorMessages
from tests.protocol import back_message


def _through_guard(scope: dict, messages: list[dict]) -> list[dict]:
    """Feed `messages` to the guard as the client's frames; what the wrapped app received."""
    queue = list(messages)
    received = []

    async def receive():
        return queue.pop(0)

    async def app(scope, receive, send):
        while True:
            message = await receive()
            received.append(message)
            if message["type"] == "websocket.disconnect":
                return

    asyncio.run(DropVisitorMessages(app)(scope, receive, None))
    return received


STREAM = {"type": "websocket", "path": "/_stcore/stream"}


def test_clear_cache_frames_never_reach_streamlit_and_everything_else_does():
    rerun, clear = back_message("rerun_script"), back_message("clear_cache")
    frames = [{"type": "websocket.connect"}, *[{"type": "websocket.receive", "bytes": clear}] * 3,
              {"type": "websocket.receive", "bytes": rerun}, {"type": "websocket.receive", "bytes": b"\xff junk"},
              {"type": "websocket.receive", "text": "hello"}, {"type": "websocket.disconnect", "code": 1000}]
    received = _through_guard(STREAM, frames)
    assert [m.get("bytes") for m in received] == [None, rerun, b"\xff junk", None, None]
    assert received[3] == {"type": "websocket.receive", "text": "hello"}  # Streamlit refuses text frames itself


def test_other_sockets_and_paths_pass_untouched():
    clear = {"type": "websocket.receive", "bytes": back_message("clear_cache")}
    done = {"type": "websocket.disconnect", "code": 1000}
    assert _through_guard({"type": "websocket", "path": "/elsewhere"}, [clear, done]) == [clear, done]
    assert _through_guard({"type": "websocket", "path": "/distill/_stcore/stream"}, [clear, done]) == [done]


def test_only_addresses_streamlit_serves_escape_the_start_page_redirect():
    from server_guards import deep_unknown
    served = ["/", "/distill", "/static/js/main.js", "/_stcore/health", "/media/abc.png", "/component/x/y",
              "/app/static/file", "/distill/_stcore/health", "/compare/_stcore/host-config"]
    blank = ["/compare/extra", "/distill/static", "/distill/static/js/main.js", "/compare/media/x", "/a/component/b",
             "/distill/_stcore"]
    assert [p for p in served if deep_unknown(p)] == []
    assert [p for p in blank if not deep_unknown(p)] == []
