"""Who a visitor is, for their share of the room: their browser, not their tab or their address.

Every tab of one browser carries the same Streamlit XSRF cookie (the server sets it on the first
request and keeps its token on every later one; only its mask changes), so the token names the
browser. A reload or a fifth tab is the same visitor; a room behind one NAT address is still many.
The id is a salted hash, so the store never holds the token itself. A client that sends no cookie
(a script, not a browser) is one visitor with all other such clients.
"""
from __future__ import annotations

import hashlib
import os
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


def server_slot() -> tuple[int, int]:
    """(this server's index, servers in the room) from $DISTILL_SERVER ("1/2"), which front.py sets
    for each of its servers; a lone server is (0, 1)."""
    try:
        index, count = (int(part) for part in os.environ.get("DISTILL_SERVER", "0/1").split("/"))
    except ValueError:
        return 0, 1
    return (index, count) if 0 <= index < count else (0, 1)


def visitor_seed(owner: str, highest_used: Callable[[], int], spacing: int,
                 slot: tuple[int, int] = (0, 1)) -> int:
    """Each visitor's own default seed for this server's life: the first visitor gets the first
    multiple of `spacing` above the highest seed already stored (0 in a fresh room), each new visitor
    the next multiple, so one visitor's "repeat over seeds" never reuses another's. Thirty people who
    keep the defaults then run thirty seeds of one setting, which together earn the room a verdict,
    instead of thirty copies of seed 0 that count once. In a room of several servers (front.py),
    server `index` of `count` hands out only every count-th multiple, so two servers never give
    the same seed to two visitors."""
    index, count = slot
    with _SEEDS_LOCK:
        if owner not in _SEEDS:
            highest = max([highest_used(), *_SEEDS.values()])
            step = highest // spacing + 1 if highest >= 0 else 0
            _SEEDS[owner] = (step + (index - step) % count) * spacing
        return _SEEDS[owner]
