"""Distillation Lab: the router and the process-wide settings. Pages live in lessons/."""
import streamlit as st

st.set_page_config(page_title="Distillation Lab", page_icon=":material/science:", layout="wide")

PAGES = {
    "Start here": [
        st.Page("lessons/intro.py", title="Why distillation", icon=":material/newspaper:", default=True),
    ],
    "Do it": [
        st.Page("lessons/teacher.py", title="1. Get a teacher", icon=":material/school:"),
        st.Page("lessons/soft_targets.py", title="2. Soft targets", icon=":material/thermostat:"),
        st.Page("lessons/distill.py", title="3. Distil a student", icon=":material/science:"),
        st.Page("lessons/compare.py", title="4. Compare runs", icon=":material/leaderboard:"),
    ],
    "Copying": [
        st.Page("lessons/copying.py", title="Copy through answers", icon=":material/content_copy:"),
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

st.navigation(PAGES).run()
