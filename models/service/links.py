"""Links a presenter can hand out: a page's settings in its address, such as
/distill?student=mlp-30&temperature=4&train_size=500.

A link only fills a form; nothing starts until the visitor presses the page's button. Each
parameter is named after its config field and read through that config's own checks (and the
form's own limits, so a link can fill in nothing the form could not). An unknown, malformed,
out-of-range or over-long one is dropped, and the page says which in one sentence. Only the pages
listed here read a link at all: the facilitator's settings and secret can never arrive in one.
"""
from __future__ import annotations

import dataclasses
import io
import math
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlencode, urlsplit

from models.base.configs import MISSING_DIGIT_DEFAULTS, ConfigError, DistillConfig, check_seeds

MAX_VALUE_CHARS = 40  # longer than any setting's value: a 10 kB parameter is refused unread
MAX_SHOWN_CHARS = 20  # of a dropped key, in the page's sentence
# Never carried by a link: a slide link opened by a whole room must leave each visitor their own seed,
# or every visitor runs the presenter's seed and the room's runs add up to one seed, not a verdict.
VISITORS_OWN = {"seed": "each visitor keeps their own seed, so the room's runs add up to a verdict"}


@dataclass(frozen=True)
class LinkField:
    """One parameter: how its text becomes a value, and the check that value must pass."""

    parse: Callable[[str], object]
    check: Callable[[object], None]


def _number(kind: type) -> Callable[[str], object]:
    def parse(text: str):
        value = kind(text)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(text)
        return value
    return parse


def _yes_no(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def _through(config, field: str) -> Callable[[object], None]:
    """The config's own check of one field: the dataclass rebuilt with only that field changed."""
    return lambda value: dataclasses.replace(config, **{field: value})


def _within(low: float, high: float, step: float | None = None, what: str = "value") -> Callable[[object], None]:
    def check(value) -> None:
        shown = f"{value:,}" if isinstance(value, int) else f"{value:g}"  # 99,999,999, not 1e+08
        if not low <= value <= high:
            raise ConfigError(f"{what} must lie in [{low:g}, {high:g}] here, got {shown}")
        if step and abs(round(value / step) * step - value) > 1e-9:
            raise ConfigError(f"{what} moves in steps of {step:g} here, got {shown}")
    return check


def _both(*checks) -> Callable[[object], None]:
    def check(value) -> None:
        for one in checks:
            one(value)
    return check


def _config_fields(config, fields: dict[str, type], limits: dict[str, Callable] | None = None) -> dict[str, LinkField]:
    limits = limits or {}
    return {name: LinkField(_yes_no if kind is bool else _number(kind) if kind in (int, float) else str,
                            _both(_through(config, name), limits.get(name, lambda value: None)))
            for name, kind in fields.items()}


# Per page (its url path): the parameters it reads, with the form's own limits beside the config's.
LINKABLE: dict[str, dict[str, LinkField]] = {
    "distill": _config_fields(DistillConfig(), {
        "student": str, "temperature": float, "alpha": float, "train_size": int, "epochs": int,
        "controls": bool}, {"alpha": _within(0, 1, 0.05, "α"), "epochs": _within(1, 500, what="epochs"),
                            "train_size": _within(1, 60_000, what="the transfer-set size")}) | {
        "seeds": LinkField(_number(int), lambda count: check_seeds(0, count))},
    "missing_digit": _config_fields(MISSING_DIGIT_DEFAULTS, {
        "omit_class": int, "student": str, "temperature": float, "alpha": float, "epochs": int},
        {"alpha": _within(0, 1, 0.05, "α"), "epochs": _within(1, 500, what="epochs"),
         "omit_class": _within(0, 9, 1, "the digit")}),
    "soft_targets": {
        "digit": LinkField(_number(int), _within(0, 9, 1, "the digit")),
        "temperature": LinkField(_number(float), _within(0.5, 20, 0.5, "temperature T")),
    },
}


def read_link(page: str, params: dict[str, str]) -> tuple[dict[str, object], list[str]]:
    """The parameters this page reads, parsed and checked, and a short reason for each one dropped."""
    fields = LINKABLE.get(page, {})
    accepted, dropped = {}, []
    for key, text in params.items():
        shown = key if len(key) <= MAX_SHOWN_CHARS else key[:MAX_SHOWN_CHARS] + "…"
        field = fields.get(key)
        if key in VISITORS_OWN and page in LINKABLE:
            dropped.append(f"{key} ({VISITORS_OWN[key]})")
        elif field is None:
            dropped.append(f"{shown} (not a setting of this page)")
        elif len(text) > MAX_VALUE_CHARS:
            dropped.append(f"{shown} (longer than any value it can take)")
        else:
            try:
                value = field.parse(text)
            except (ValueError, TypeError):
                dropped.append(f"{shown} (not a value it can take)")
                continue
            try:
                field.check(value)
            except ConfigError as error:  # the form's own sentence: the range, the choices
                dropped.append(f"{shown} ({error})")
            else:
                accepted[key] = value
    return accepted, dropped


def dropped_sentence(dropped: list[str]) -> str:
    """The page's one sentence about the parts of its link it did not use."""
    return ("This link's settings are filled in except " + "; ".join(dropped)
            + ", which the form left at its own value.")


def link_query(page: str, values: dict[str, object]) -> str:
    """"?student=mlp-30&temperature=4" for the values this page reads (others left out)."""
    fields = LINKABLE.get(page, {})

    def text(value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return f"{value:g}" if isinstance(value, float) else str(value)
    kept = {key: text(value) for key, value in values.items() if key in fields}
    return "?" + urlencode(kept) if kept else ""



LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def room_address(url: str | None) -> str:
    """The lab's root address from the page's own (scheme, host and port; no page, no query)."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme in ("http", "https") and parts.netloc else ""


def network_hosts() -> list[str]:
    """This machine's addresses that other machines in the room can reach (never a loopback one):
    the one its default route leaves by (a UDP "connect" sends nothing, so this works offline, as
    Streamlit's own net_util does), then any others its host name resolves to."""
    import socket
    found = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            found.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        found += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    return list(dict.fromkeys(host for host in found if not host.startswith("127.") and host not in LOOPBACK_HOSTS))


def room_address_choices(url: str | None, hosts: list[str]) -> list[str]:
    """The addresses a room can open, best first. A presenter who browses the lab on the laptop that
    serves it sees a loopback address (localhost, 127.0.0.1), which only that laptop can open: the
    room gets the laptop's network addresses instead, on the same port."""
    address = room_address(url)
    parts = urlsplit(address)
    if not address or (parts.hostname or "") not in LOOPBACK_HOSTS:
        return [address] if address else []
    port = f":{parts.port}" if parts.port else ""
    return [f"{parts.scheme}://{host}{port}/" for host in hosts] or [address]


def room_qr(address: str) -> tuple[bytes | None, str | None]:
    """A QR code (PNG bytes) of the room's address, drawn here (segno: no network), or why not."""
    import segno
    parts = urlsplit(address.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None, "Type the address as http://HOST:PORT/ to draw its QR code."
    buffer = io.BytesIO()
    segno.make(address.strip(), error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue(), None
