"""A digit's picture as a PNG data address, made once per picture for the whole server.

st.image of an array encodes a PNG on every page run and registers it with Streamlit's media file
manager, which walks every session's files at the end of every script run: in a room of a hundred
that was 5 % of a slider move (py-spy). st.image takes a data address as it is, so the start page
and Soft targets draw their test digits from here, with nothing registered.
"""
from __future__ import annotations

import base64
import functools
import io

import numpy as np
from PIL import Image

PNG_URL = "data:image/png;base64,"  # what st.image shows as is, and what the drawing pad sends (canvas.py)


@functools.lru_cache(maxsize=2048)  # a room looks at the same few dozen test digits
def _png_address(pixels: bytes, height: int, width: int) -> str:
    out = io.BytesIO()
    Image.frombytes("L", (width, height), pixels).save(out, format="PNG")
    return PNG_URL + base64.b64encode(out.getvalue()).decode("ascii")


def picture_address(pixels) -> str:
    """A (height, width) grey picture, 0-255, as a data:image/png address st.image shows as is."""
    array = np.ascontiguousarray(pixels, dtype=np.uint8)
    return _png_address(array.tobytes(), *array.shape)
