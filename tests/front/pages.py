"""What the page tests share: ways to open a page, wait for a run and read what the page says (the
fresh app per test is the `app` fixture in conftest.py)."""
import time

from streamlit.testing.v1 import AppTest
from tests.conftest import PATIENCE_S


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"lessons/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def run_until(at: AppTest, done, timeout_s: float = PATIENCE_S) -> None:
    """Rerun the page until done(at); fails the test after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if done(at):
            return
        time.sleep(0.5)
    raise AssertionError("the run did not finish in time: " + " | ".join(i.value for i in at.info))


def texts(at: AppTest) -> str:
    return " ".join(e.value for kind in (at.markdown, at.caption, at.info, at.success, at.warning, at.error)
                    for e in kind)


def shared_store_runs() -> int:
    from models.service.store import RunStore
    return len(RunStore().list())
