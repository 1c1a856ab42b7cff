"""App responsiveness in a real browser: time to the first page after launch, time from opening the
start page to a measured "student beat its twin" on screen (a fresh server's first visitor, then a
second visitor), and the re-render after one step of the temperature slider on the Soft targets page.

    DISTILL_DATA=../shared/data python -m bench.app

Baseline, same run: a bare Streamlit script with one title and one slider, measured the same way.
Prints one JSON object (median of several slider moves).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.load import wait_healthy
from front import free_port as _port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
BARE_APP = """
import streamlit as st
st.title("Bare")
t = st.slider("Temperature T", 0.5, 20.0, 4.0, 0.5)
st.markdown(f"At T = {t:g} nothing happens.")
"""


def measure(script: str, path: str, first_text: str, page_text: str, moves: int = 7,
            result_text: str | None = None) -> dict:
    port = _port()
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
                               "--server.headless", "true"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        url = f"http://127.0.0.1:{port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            wait_healthy(url, server)
            opened = time.perf_counter()
            page.goto(url)
            page.get_by_text(first_text).first.wait_for(timeout=60_000)
            first_render = time.perf_counter() - started
            results = {}
            if result_text:  # a measured "student beat its twin" on screen: a fresh server, then a new visitor
                page.get_by_text(result_text).first.wait_for(timeout=60_000)
                results["first_result_cold_s"] = round(time.perf_counter() - opened, 2)
                warm = browser.new_context().new_page()
                opened = time.perf_counter()
                warm.goto(url)
                warm.get_by_text(result_text).first.wait_for(timeout=60_000)
                results["first_result_warm_s"] = round(time.perf_counter() - opened, 2)
                warm.close()
            page.goto(f"{url}/{path}")
            page.get_by_text(page_text).first.wait_for(timeout=60_000)
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
            slider = page.get_by_role("slider", name="Temperature T") if path else page.get_by_role("slider")
            slider.first.focus()  # starts at T = 4; each ArrowRight adds one 0.5 step
            timings = []
            for step in range(1, moves + 1):
                target = f"At T = {4 + 0.5 * step:g}"
                tick = time.perf_counter()
                page.keyboard.press("ArrowRight")
                page.get_by_text(target).first.wait_for(timeout=30_000)
                timings.append(time.perf_counter() - tick)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"first_render_s": round(first_render, 2), **results,
            "slider_rerender_ms": round(1000 * statistics.median(timings))}


def main() -> None:
    ours = measure("app.py", "soft_targets", "Why it is in the news", "its second choice",
                   result_text="Finding: the student beat its scratch twin")
    with tempfile.TemporaryDirectory() as folder:
        bare = Path(folder) / "bare.py"
        bare.write_text(BARE_APP)
        baseline = measure(str(bare), "", "Bare", "Bare")
    print(json.dumps({"app": ours, "baseline_bare_streamlit": baseline,
                      "targets": {"first_render_s": "≤ 5", "slider_rerender_ms": "≤ 150"}}, indent=2))


if __name__ == "__main__":
    main()
