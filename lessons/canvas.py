"""A drawing pad built on Streamlit's own component API (st.components.v2): no extra package.

The visitor draws white ink on black, as MNIST digits are. When a stroke ends, the pad sends the
picture to Python as a PNG data URL (state "png"). A new key gives a fresh, empty pad.
"""
from __future__ import annotations

import base64
import binascii

import streamlit as st

from lessons.pictures import PNG_URL
from models.core.digit import DigitError

SIZE = 280
HTML = f'<canvas width="{SIZE}" height="{SIZE}" aria-label="drawing pad: draw one digit"></canvas>'
CSS = """
canvas { background: #000; border-radius: 0.5rem; touch-action: none; cursor: crosshair;
         border: 1px solid var(--st-border-color, #ccc); }
"""
JS = """
export default function(component) {
    const { parentElement, setStateValue } = component;
    const canvas = parentElement.querySelector("canvas");
    if (canvas.dataset.ready) return;  // re-rendered with the same key: keep the drawing
    canvas.dataset.ready = "1";
    const pen = canvas.getContext("2d");
    pen.fillStyle = "#000"; pen.fillRect(0, 0, canvas.width, canvas.height);
    pen.strokeStyle = "#fff"; pen.lineWidth = 20; pen.lineCap = "round"; pen.lineJoin = "round";
    let drawing = false;
    const at = (event) => {
        const box = canvas.getBoundingClientRect();
        return [(event.clientX - box.left) * canvas.width / box.width,
                (event.clientY - box.top) * canvas.height / box.height];
    };
    canvas.addEventListener("pointerdown", (event) => {
        drawing = true; canvas.setPointerCapture(event.pointerId);
        const [x, y] = at(event); pen.beginPath(); pen.moveTo(x, y); pen.lineTo(x, y); pen.stroke();
    });
    canvas.addEventListener("pointermove", (event) => {
        if (!drawing) return;
        const [x, y] = at(event); pen.lineTo(x, y); pen.stroke();
    });
    const finish = () => {
        if (!drawing) return;
        drawing = false;
        setStateValue("png", canvas.toDataURL("image/png"));
    };
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
}
"""

_pad = st.components.v2.component("distillation_lab.drawing_pad", html=HTML, css=CSS, js=JS)


MAX_PAD_BYTES = 5 * 1024 * 1024  # an upload's cap (maxUploadSize in .streamlit/config.toml): the pad is no way around it


def pad_png(value) -> bytes | None:
    """The PNG bytes in a pad's value, None before the first stroke, or DigitError in one sentence:
    the value comes from the visitor's browser, which may send anything a script can."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(PNG_URL):
        raise DigitError("the drawing pad sent something that is not a PNG picture")
    encoded = value[len(PNG_URL):]
    if len(encoded) > (MAX_PAD_BYTES + 2) // 3 * 4:  # measured before decoding, as an upload is
        raise DigitError(f"the drawing is larger than the {MAX_PAD_BYTES // 2**20} MB an upload may be")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise DigitError("the drawing pad sent a damaged picture") from None


def drawing_pad(key: str) -> bytes | None:
    """The PNG bytes of what has been drawn on this pad so far, or None before the first stroke;
    DigitError when the browser sent something else."""
    return pad_png(getattr(_pad(key=key, on_png_change=lambda: None), "png", None))
