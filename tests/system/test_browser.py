"""End to end in a real headless browser: pretrained teacher -> tiny student -> comparison table."""
import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PATIENCE_S, ROOT
from tests.servers import CHROMIUM, CHROMIUM_ARGS, start_front, start_server

PATIENCE_MS = PATIENCE_S * 1000  # Playwright counts milliseconds

ARTIFACTS = ROOT / "tests" / "artifacts"
OWN_RUN_DONE = re.compile(r"^Run #\d+, seed \d+: ")  # a visitor's own finished distillation
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")


@pytest.fixture
def server(isolated_lab):
    process, port = start_server("serve.py", output=subprocess.PIPE)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=20)


def _settled(page):
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=PATIENCE_MS)


def test_pretrained_teacher_tiny_student_shows_in_comparison(server):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server}/compare/extra")  # an address two segments deep: the start page, with a note
        page.get_by_text("Why it is in the news").wait_for(timeout=PATIENCE_MS)
        page.get_by_text("The address you opened had parts this lab does not use").wait_for()

        page.get_by_role("link", name="1. Get a teacher").click()
        page.get_by_role("button", name="Use the pretrained teacher").click()
        _settled(page)
        page.get_by_text("Teacher in use for your runs: pretrained").wait_for()

        page.get_by_role("link", name="3. Distil a student", exact=True).click()
        page.get_by_label("Transfer-set size").fill("300")
        page.get_by_label("Epochs (passes over the transfer set)").fill("2")
        page.get_by_label("Name for the leaderboard").fill("browser-tiny")
        page.get_by_role("button", name="Distil").click()
        page.get_by_text(OWN_RUN_DONE).wait_for(timeout=PATIENCE_MS)  # not the stored default shown before
        page.screenshot(path=str(ARTIFACTS / "distill.png"), full_page=True)

        page.get_by_role("link", name="4. Compare runs").click()
        _settled(page)
        # The table draws on a canvas; its cells also live in an accessible (hidden) grid in the DOM.
        cell = page.locator('[data-testid="stDataFrame"] [role="gridcell"]', has_text="browser-tiny")
        cell.first.wait_for(state="attached", timeout=PATIENCE_MS)
        row = cell.first.locator("xpath=..")
        assert "mlp-100" in row.inner_text()  # the finished runs' table (unfinished ones have their own)
        page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)

        page.get_by_role("link", name="Copy a chatbot").click()
        _settled(page)
        page.get_by_text("Shakespeare's plays").first.wait_for(timeout=PATIENCE_MS)
        page.get_by_role("button", name="Copy the chatbot").wait_for()
        assert page.locator('[data-testid="stException"]').count() == 0

        page.get_by_role("link", name="Try your own digit").click()
        _settled(page)
        _draw_a_one(page)
        page.get_by_text("The teacher reads 1").wait_for(timeout=PATIENCE_MS)
        _settled(page)
        answers = page.locator('[data-testid="stDataFrame"] [role="gridcell"]', has_text="browser-tiny: distilled")
        answers.first.wait_for(state="attached", timeout=PATIENCE_MS)  # this session's student answers too
        page.screenshot(path=str(ARTIFACTS / "own-digit.png"), full_page=True)
        page.get_by_role("button", name="Clear", exact=True).click()
        page.get_by_text("Draw a digit on the pad").wait_for(timeout=PATIENCE_MS)
        browser.close()


def _draw_a_one(page) -> None:
    """One vertical stroke down the middle of the drawing pad, as a mouse would draw it."""
    # The pad's own canvas (a table's canvas from the page just left may still be in the DOM), once
    # its script has attached the pen (data-ready): a stroke before that draws nothing.
    canvas = page.locator('canvas[aria-label^="drawing pad"][data-ready="1"]')
    canvas.wait_for(timeout=PATIENCE_MS)
    box = canvas.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + 0.15 * box["height"])
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x, box["y"] + (0.15 + 0.7 * step / 20) * box["height"])
    page.mouse.up()


SESSIONS = 4


def test_several_sessions_finish_runs_at_once_without_errors(server):
    """A workshop in miniature: a fresh server, several visitors submitting within a second of each
    other, their runs finishing and drawing their first charts together."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding"])
        pages = [browser.new_context(viewport={"width": 1200, "height": 900}).new_page() for _ in range(SESSIONS)]
        for page in pages:
            page.goto(f"{server}/distill")
        for number, page in enumerate(pages):
            page.get_by_label("Transfer-set size").wait_for(timeout=PATIENCE_MS)
            page.get_by_label("Transfer-set size").fill("300")
            page.get_by_label("Epochs (passes over the transfer set)").fill("2")
            page.get_by_label("Name for the leaderboard").fill(f"visitor-{number}")
        for page in pages:
            page.get_by_role("button", name="Distil").click()
        for page in pages:
            page.get_by_text(OWN_RUN_DONE).wait_for(timeout=PATIENCE_MS)
            _settled(page)
            assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")
        pages[0].get_by_role("link", name="4. Compare runs").click()
        _settled(pages[0])
        for number in range(SESSIONS):
            cell = pages[0].locator('[data-testid="stDataFrame"] [role="gridcell"]', has_text=f"visitor-{number}")
            cell.first.wait_for(state="attached", timeout=PATIENCE_MS)
        browser.close()
    from models.service.store import RunStore
    runs = RunStore().list(kind="distill")  # the server's store: this test's state folder
    assert sorted(r.name for r in runs) == [f"visitor-{n}" for n in range(SESSIONS)]
    assert {r.status for r in runs} == {"done"} and len({r.owner for r in runs}) == SESSIONS


@pytest.fixture
def one_job_server(isolated_lab):
    # Served as a room is, through front.py with two servers: a visitor's tabs are one visitor only
    # if the front sends both to the server that holds that visitor (ids are salted per server).
    process, port = start_front(2, output=subprocess.PIPE, DISTILL_SESSION_JOBS="1")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=60)


def _dark_one(path: Path) -> Path:
    """A photo-like "1": a dark stroke on light paper."""
    import numpy as np
    from PIL import Image
    pixels = np.full((112, 112), 255, np.uint8)
    pixels[20:92, 50:62] = 0
    Image.fromarray(pixels).save(path)
    return path


def test_tabs_of_one_browser_share_one_visitors_share(one_job_server, tmp_path):
    """A second tab (or a reload) is the same visitor, so it cannot queue past the share; another
    browser is another visitor. Through front.py an upload, which Streamlit keeps in the process of
    the session it belongs to, reaches that session's server too."""
    def distil(page) -> None:
        page.goto(f"{one_job_server}/distill")
        page.get_by_label("Transfer-set size").wait_for(timeout=PATIENCE_MS)
        page.get_by_label("Epochs (passes over the transfer set)").fill("500")
        page.get_by_role("button", name="Distil").click()
        _settled(page)

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        first_browser, second_browser = browser.new_context(), browser.new_context()
        tabs = [first_browser.new_page(), first_browser.new_page()]
        distil(tabs[0])
        tabs[0].get_by_role("button", name="Cancel this run").wait_for(timeout=PATIENCE_MS)
        distil(tabs[1])
        tabs[1].get_by_text("Not started: you already have 1 submissions queued or running").wait_for(timeout=PATIENCE_MS)
        other = second_browser.new_page()
        distil(other)
        # "settled" can be read before the click's own rerun began: wait for the run it drew, as for the first tab
        other.get_by_role("button", name="Cancel this run").wait_for(timeout=PATIENCE_MS)
        assert other.get_by_text("Not started").count() == 0
        tabs[1].goto(f"{one_job_server}/own_digit")
        tabs[1].get_by_text("Upload", exact=True).click()
        tabs[1].set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(_dark_one(tmp_path / "one.png")))
        tabs[1].get_by_text("The teacher reads 1,").wait_for(timeout=PATIENCE_MS)
        browser.close()
    from models.service.store import RunStore
    runs = RunStore().list(kind="distill")
    assert len(runs) == 2 and len({run.owner for run in runs}) == 2


@pytest.fixture
def altered_server(isolated_lab, tmp_path):
    """A server whose stored defaults were edited: a page that printed a fixed sentence would not notice."""
    from models.service.stored_defaults import STORED_DEFAULTS
    stored = json.loads(STORED_DEFAULTS.read_text())
    distill = stored["runs"]["distill"][0]["result"]
    distill["distilled_accuracy"], distill["gain"] = 0.9777, 0.9777 - distill["scratch_accuracy"]
    for copy in stored["runs"]["forensics"]:
        copy["result"]["teacher_second_choice_shared"] = 0.777
    for point in stored["runs"]["copy_curve"]:
        if point["result"]["answers"] == "probs" and point["result"]["queries"] == 10_000:
            point["result"]["fidelity"] = 0.9876
    path = tmp_path / "stored_defaults.json"
    path.write_text(json.dumps(stored))
    process, port = start_server("serve.py", output=subprocess.PIPE, DISTILL_STORED_DEFAULTS=str(path))
    yield f"http://127.0.0.1:{port}", stored
    process.terminate()
    process.wait(timeout=20)


def test_the_news_route_from_the_start_page_says_each_pages_finding(altered_server):
    """The route "10 minutes: the news" walked from the start page; each page's one-sentence finding
    is on screen and computed from its (here altered) stored result."""
    server, stored = altered_server
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server)
        page.get_by_text("What that looks like here:").wait_for(timeout=PATIENCE_MS)
        assert "97.8% against" in page.inner_text("body")  # the edited number, not a sentence typed into the page
        page.get_by_text("The numbers behind it").click()
        page.get_by_text("Finding: the student beat its scratch twin by").wait_for(timeout=PATIENCE_MS)
        page.get_by_text("10 minutes: the news").wait_for()

        page.get_by_role("link", name="Soft targets", exact=True).first.click()
        page.get_by_text("At T = 1 the teacher gives").wait_for(timeout=PATIENCE_MS)

        page.get_by_role("link", name="Copy through answers").first.click()
        page.get_by_text("Finding: with 10,000 exchanges, the copy made from full probabilities").wait_for(
            timeout=PATIENCE_MS)
        assert "98.8%" in page.inner_text("body")

        page.get_by_role("link", name="Copy a chatbot").first.click()
        page.get_by_text("the copy needs").first.wait_for(timeout=PATIENCE_MS)

        page.get_by_role("link", name="Accounts and detection").first.click()
        page.get_by_text("With the reported 24,000 accounts it would take").wait_for(timeout=PATIENCE_MS)

        page.get_by_role("link", name="Was it copied?").first.click()
        page.get_by_text("The copies share the teacher's runner-up on 78%").wait_for(timeout=PATIENCE_MS)
        _settled(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        browser.close()


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # npm's axe-core (package.json), served from here
SERIOUS = ("critical", "serious")
# The sidebar's page list is Streamlit's own markup (its <li>s sit in a <div>, not straight in the <ul>),
# which the lab cannot change; every other finding is the lab's own.
STREAMLITS_OWN = '[data-testid="stSidebarNav"]'


def _axe_findings(page) -> list[str]:
    page.add_script_tag(content=AXE.read_text())
    found = page.evaluate("""async (own) => (await axe.run({exclude: [[own]]}, {resultTypes: ['violations']}))
        .violations.map(v => ({id: v.id, impact: v.impact, where: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))""",
                          STREAMLITS_OWN)
    return [f"{v['id']} ({v['impact']}) at {v['where']}" for v in found if v["impact"] in SERIOUS]


def test_every_page_passes_axe_core_and_says_what_each_chart_shows(server):
    """axe-core 4 on every page as a visitor first sees it: no critical or serious finding of the lab's
    own (images without alt text, faint captions, …), and every chart followed by its sentence."""
    from tests.front.pages import lesson_pages
    assert AXE.exists(), "axe-core is missing: run `npm ci` (see .ci/run)"
    findings, charts = {}, 0
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name in lesson_pages():
            page.goto(f"{server}/{'' if name == 'intro' else name}")
            _settled(page)
            page.locator('[data-testid="stMainBlockContainer"]').first.wait_for(timeout=PATIENCE_MS)
            findings[name] = _axe_findings(page)
            for chart in page.locator('[data-testid="stPlotlyChart"]').all():
                chart.wait_for(timeout=PATIENCE_MS)
                after = chart.locator("xpath=ancestor::div[contains(@class, 'stElementContainer')][1]"
                                      "/following-sibling::div[1]")
                assert after.inner_text().startswith("Chart: "), name
                charts += 1
        browser.close()
    assert {name: found for name, found in findings.items() if found} == {}
    assert charts >= 5 and len(findings) == len(lesson_pages())
