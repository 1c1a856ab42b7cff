"""A page's settings to and from its address (models/service/links.py reads and checks them): a
link fills the form's widgets before they are drawn, and the page offers its own link to copy."""
from __future__ import annotations

import streamlit as st

from models.service.links import LINKABLE, dropped_sentence, link_query, read_link
from models.service.names import markdown_escaped

# Each linked parameter's widget, per page: the form reads the value the link put there.
WIDGET_KEYS = {
    "distill": {"student": "student", "temperature": "temperature", "alpha": "alpha", "train_size": "train_size",
                "epochs": "epochs", "seeds": "seeds", "controls": "controls"},
    "missing_digit": {"omit_class": "omit_digit", "student": "md_student", "temperature": "md_temperature",
                      "alpha": "md_alpha", "epochs": "md_epochs"},
    "soft_targets": {"digit": "digit", "temperature": "soft_temperature"},
}
assert all(set(keys) == set(LINKABLE[page]) for page, keys in WIDGET_KEYS.items())


def linkable(page: str) -> bool:
    return page in WIDGET_KEYS


def apply_link(page: str, params: dict[str, str]) -> str | None:
    """Fill this page's widgets from its link; the sentence about what was dropped, if anything was."""
    accepted, dropped = read_link(page, params)
    for name, value in accepted.items():
        st.session_state[WIDGET_KEYS[page][name]] = value
    return markdown_escaped(dropped_sentence(dropped)) if dropped else None


def widget_default(key: str, default) -> None:
    """Before a linked widget is drawn: its starting value unless a link (or the visitor) set one.
    The widget is then created with its key and no value=, so the link's value is not overridden
    (and Streamlit does not warn that a widget has two starting values)."""
    st.session_state.setdefault(key, default)


def share_link(page: str) -> None:
    """The page's current settings as a link a presenter can put on a slide (st.code has a copy button)."""
    values = {name: st.session_state.get(key) for name, key in WIDGET_KEYS[page].items()
              if st.session_state.get(key) is not None}
    base = st.context.url.split("?")[0].rstrip("/") if st.context.url else ""
    if base and not base.endswith("/" + page):
        base = base.rsplit("/", 1)[0] + "/" + page if "/" in base.split("//", 1)[-1] else base + "/" + page
    with st.expander("Copy a link to these settings"):
        st.code(base + link_query(page, values), language=None)
        st.caption("Opening it fills this form with these settings; nothing starts until the visitor presses the "
                   "button.")
