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


def lesson_pages() -> list[str]:
    """Every page app.py routes to, as lessons/NAME.py names."""
    import re

    from tests.conftest import ROOT
    return re.findall(r'st\.Page\("lessons/(\w+)\.py"', (ROOT / "app.py").read_text())


def charts_without_a_text_alternative(at: AppTest) -> list[str]:
    """Keys of the page's charts that are not followed at once by their "Chart: …" sentence."""
    # AppTest has no class of its own for a Plotly chart (an UnknownElement of type "plotly_chart").
    drawn = [e for e in at.main if not hasattr(e, "children")]  # elements, in page order; no containers

    def is_chart(element) -> bool:
        return getattr(element, "type", "") == "plotly_chart"

    def is_alternative(element) -> bool:
        return type(element).__name__ == "Caption" and element.value.startswith("Chart: ") and len(element.value) > 20
    return [element.proto.id for i, element in enumerate(drawn)
            if is_chart(element) and not (i + 1 < len(drawn) and is_alternative(drawn[i + 1]))]
