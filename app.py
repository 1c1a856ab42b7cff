"""Distillation Lab: the router and the process-wide settings. Pages live in lessons/."""
import streamlit as st

from lessons.links import apply_link, linkable
from lessons.room import store
from lessons.turns import page_turn
from models.base.configs import StoreError
from models.service.names import without_paths


def main() -> None:
    st.set_page_config(page_title="Distillation Lab", page_icon=":material/science:", layout="wide")

    start = st.Page("lessons/intro.py", title="Why distillation", icon=":material/newspaper:", default=True)
    PAGES = {
        "Start here": [start],
        "Do it": [
            st.Page("lessons/teacher.py", title="1. Get a teacher", icon=":material/school:"),
            st.Page("lessons/soft_targets.py", title="2. Soft targets", icon=":material/thermostat:"),
            st.Page("lessons/own_digit.py", title="Try your own digit", icon=":material/draw:"),
            st.Page("lessons/distill.py", title="3. Distil a student", icon=":material/science:"),
            st.Page("lessons/compare.py", title="4. Compare runs", icon=":material/leaderboard:"),
        ],
        "Copying": [
            st.Page("lessons/copying.py", title="Copy through answers", icon=":material/content_copy:"),
            st.Page("lessons/chat_copy.py", title="Copy a chatbot", icon=":material/chat:"),
            st.Page("lessons/defences.py", title="Defences and their cost", icon=":material/shield:"),
            st.Page("lessons/forensics.py", title="Was it copied?", icon=":material/fingerprint:"),
            st.Page("lessons/catching.py", title="Accounts and detection", icon=":material/policy:"),
        ],
        "Check the paper": [
            st.Page("lessons/teacher_knows.py", title="What the teacher knows", icon=":material/grid_on:"),
            st.Page("lessons/missing_digit.py", title="The missing digit", icon=":material/visibility_off:"),
            st.Page("lessons/sweep.py", title="Sweeps: T, size, data", icon=":material/tune:"),
            st.Page("lessons/paper_table.py", title="The paper's table", icon=":material/table:"),
        ],
        "Workshop": [
            st.Page("lessons/facilitator.py", title="Facilitator", icon=":material/admin_panel_settings:"),
        ],
    }

    page = st.navigation(PAGES)
    # A link may fill a page's form (lessons/links.py: only the settings that page reads, each
    # checked; nothing starts). Any other query string (a mangled link, a probe) is dropped, and the
    # visitor lands on the start page knowing why. Streamlit itself sends unknown page names to the
    # start page with a "Page not found" note.
    if st.query_params:
        params = {key: st.query_params.get(key, "") for key in st.query_params}
        st.query_params.clear()
        if linkable(page.url_path):
            st.session_state["link_note"] = apply_link(page.url_path, params)
        else:
            st.session_state["address_note"] = True
            if page.url_path != start.url_path:
                st.switch_page(start)
    if st.session_state.pop("address_note", False):
        st.info("The address you opened had parts this lab does not use, so here is the start page.",
                icon=":material/link_off:")
    link_note = st.session_state.pop("link_note", None)
    if link_note:
        st.warning(link_note, icon=":material/link_off:")
    # A store fault is said once, on every page, in one sentence; pages that need no store still work.
    try:
        notice, fault = store().notice or store().disk_notice, None
    except StoreError as error:
        notice, fault = "", without_paths(error)
    if fault:
        st.error(fault, icon=":material/database:")
    elif notice:
        st.warning(without_paths(notice), icon=":material/database:")
    try:
        page.run()
    except StoreError as error:
        if not fault:
            st.error(without_paths(error), icon=":material/database:")


# Worker processes are spawned while this script is Python's __main__, and a spawned process
# re-imports __main__ as "__mp_main__": without this guard each worker would build the app again.
if __name__ == "__main__":
    with page_turn():  # lessons/turns.py: a full room's page loads take turns; slider moves never wait
        main()
