"""Distillation Lab: the router and the process-wide settings. Pages live in lessons/."""
import streamlit as st

st.set_page_config(page_title="Distillation Lab", page_icon="🧪", layout="wide")

PAGES = {
    "Start here": [
        st.Page("lessons/intro.py", title="Why distillation", icon="📰", default=True),
    ],
    "Do it": [
        st.Page("lessons/teacher.py", title="1. Get a teacher", icon="🎓"),
        st.Page("lessons/soft_targets.py", title="2. Soft targets", icon="🌡️"),
        st.Page("lessons/distill.py", title="3. Distil a student", icon="⚗️"),
        st.Page("lessons/compare.py", title="4. Compare runs", icon="📊"),
    ],
}

st.navigation(PAGES).run()
