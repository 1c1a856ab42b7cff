"""Who a visitor is, for their share of the room: their browser, not their tab or their address.

Every tab of one browser carries the same Streamlit XSRF cookie (the server sets it on the first
request and keeps its token on every later one; only its mask changes), so the token names the
browser. A reload or a fifth tab is the same visitor; a room behind one NAT address is still many.
The id is a salted hash, so the store never holds the token itself. A client that sends no cookie
(a script, not a browser) is one visitor with all other such clients.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
from typing import Callable

WITHOUT_COOKIE = "a client without the browser cookie"
_SALT = secrets.token_bytes(16)  # per server process: the ids cannot be matched to tokens elsewhere


def xsrf_token(cookie: str | None) -> bytes | None:
    """The token inside a version-2 XSRF cookie, "2|mask|masked token|timestamp" (hex), unmasked."""
    try:
        version, mask, masked, _ = (cookie or "").split("|")
        mask_bytes, masked_bytes = bytes.fromhex(mask), bytes.fromhex(masked)
    except ValueError:
        return None
    if version != "2" or len(mask_bytes) != 4 or not 16 <= len(masked_bytes) <= 64:
        return None
    return bytes(b ^ mask_bytes[i % 4] for i, b in enumerate(masked_bytes))


def visitor_id(cookie: str | None) -> str:
    """The owner id of whoever sent this cookie value."""
    token = xsrf_token(cookie)
    if token is None:
        return hashlib.sha256(_SALT + WITHOUT_COOKIE.encode()).hexdigest()[:32]
    return hashlib.sha256(_SALT + token).hexdigest()[:32]


_SEEDS: dict[str, int] = {}
_SEEDS_LOCK = threading.Lock()


def visitor_seed(owner: str, highest_used: Callable[[], int], spacing: int) -> int:
    """Each visitor's own default seed for this server's life: the first visitor gets the first
    multiple of `spacing` above the highest seed already stored (0 in a fresh room), each new visitor
    the next multiple, so one visitor's "repeat over seeds" never reuses another's. Thirty people who
    keep the defaults then run thirty seeds of one setting, which together earn the room a verdict,
    instead of thirty copies of seed 0 that count once."""
    with _SEEDS_LOCK:
        if owner not in _SEEDS:
            highest = max([highest_used(), *_SEEDS.values()])
            _SEEDS[owner] = (highest // spacing + 1) * spacing if highest >= 0 else 0
        return _SEEDS[owner]
