"""Run names are typed by strangers and shown to everyone: keep them plain text everywhere.

Three places would otherwise read a name as more than text: plotly (a subset of HTML in labels and
hover text), Markdown, and spreadsheets (a CSV cell starting with = is a formula). Control and
bidirectional-override characters are removed when a name is stored, so one name cannot reverse
the text around it or pose as another.
"""
from __future__ import annotations

import html
import re
import unicodedata

MAX_NAME = 80
# Unicode categories that carry no visible text: controls (Cc), formats such as the bidi overrides
# U+202A-U+202E, U+2066-U+2069 and zero-width joiners (Cf), separators of lines and paragraphs
# (Zl, Zp), private use (Co) and lone surrogates (Cs).
INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/'\"():;,]+/)+([^\s/'\"():;,]+)")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def clean_name(text: str) -> str:
    """What is stored: visible characters only, runs of spaces collapsed, at most MAX_NAME long."""
    return visible_text(text)[:MAX_NAME]


def visible_text(text: str) -> str:
    """Visible characters only (no control or direction-changing ones), runs of spaces collapsed."""
    visible = "".join(" " if ch.isspace() else ch for ch in str(text)
                      if unicodedata.category(ch) not in INVISIBLE or ch.isspace())
    return " ".join(visible.split())


def chart_text(text: str) -> str:
    """A name as plotly shows it: its HTML subset escaped, so tags and links appear as typed."""
    return html.escape(clean_name(text), quote=False)


def markdown_text(text: str) -> str:
    """A name inside st.markdown/st.write: Markdown and HTML characters shown as typed."""
    return markdown_escaped(clean_name(text))


def markdown_escaped(text: str) -> str:
    """Any text inside st.markdown (a sentence quoting what a visitor sent): its visible characters
    shown as typed, not cut short."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", visible_text(text))


def without_paths(text: str) -> str:
    """A message for visitors: every absolute server path shortened to its file name."""
    return ABSOLUTE_PATH.sub(r"\1", str(text))


def spreadsheet_cell(value):
    """A CSV cell that a spreadsheet shows as text: a leading formula character gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
