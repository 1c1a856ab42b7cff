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


def test_only_the_kinds_a_page_needs_pass_and_the_rest_are_counted():
    """An allow-list: git lookups (each runs git on the server's event loop), developer messages and
    cache clears are dropped and counted; what a tab needs to work passes."""
    import server_guards
    needed = ["rerun_script", "stop_script", "file_urls_request", "app_heartbeat", "backend_operation_request"]
    refused = ["load_git_info", "clear_cache", "set_run_on_save", "debug_disconnect_websocket", "debug_shutdown_runtime"]
    before = dict(server_guards.DROPPED_COUNTS)
    frames = [{"type": "websocket.receive", "bytes": back_message(kind)} for kind in needed + refused * 2]
    received = _through_guard(STREAM, frames + [{"type": "websocket.disconnect", "code": 1000}])
    assert [m.get("bytes") for m in received[:-1]] == [back_message(kind) for kind in needed]
    for kind in refused:
        assert server_guards.DROPPED_COUNTS[kind] - before.get(kind, 0) == 2


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


ACCEPTED_NODELAY = '''
import asyncio, socket, sys
sys.path.insert(0, ".")
from streamlit.web.server.starlette.starlette_server import _bind_socket
if "--mended" in sys.argv:
    from server_guards import accept_without_nagle
    accept_without_nagle()
    accept_without_nagle()  # twice changes nothing

async def main():
    listener, seen = _bind_socket("127.0.0.1", 0, 8), asyncio.get_running_loop().create_future()

    class Report(asyncio.Protocol):
        def connection_made(self, transport):
            sock = transport.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Report, sock=listener)
    client = socket.create_connection(listener.getsockname())
    print(await asyncio.wait_for(seen, 10))
    client.close()
    server.close()

asyncio.run(main())
'''


def _accepted_nodelay(*flags: str) -> int:
    """TCP_NODELAY on a connection accepted the way Streamlit's server accepts (its own _bind_socket,
    then asyncio), in a fresh interpreter so the mend is on only when asked for."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", ACCEPTED_NODELAY, *flags], capture_output=True, text=True,
                          timeout=60, check=True)
    return int(done.stdout.split()[-1])


def test_connections_the_server_accepts_send_small_messages_at_once():
    import pytest
    if _accepted_nodelay():
        pytest.skip("Streamlit's own listener now gets TCP_NODELAY from asyncio: accept_without_nagle can go")
    assert _accepted_nodelay("--mended") == 1


def test_serve_turns_nagle_off_before_uvicorn_accepts():
    """serve.py is what uvicorn imports before it accepts; the call must sit at its top level."""
    import ast
    from pathlib import Path
    tree = ast.parse(Path("serve.py").read_text())
    calls = [node.value.func.id for node in tree.body if isinstance(node, ast.Expr)
             and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)]
    assert "accept_without_nagle" in calls
