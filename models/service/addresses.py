"""What a Dask scheduler address may look like, checked without importing Dask or torch: a
mistyped `--cluster` is refused in one line before seconds of imports."""
from __future__ import annotations

import re

ADDRESS = re.compile(r"(?P<scheme>[a-z]+)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?)"
                     r":(?P<port>\d{1,5})")


def address_problem(address: str) -> str:
    """Why this is not a scheduler address the lab can use ('' when it is): tcp://HOST:PORT only."""
    match = ADDRESS.fullmatch(address)
    if not match:
        return "not an address like tcp://HOST:8786"
    if match["scheme"] != "tcp":
        return (f"{match['scheme']}:// is not supported: the lab speaks plain tcp:// to Dask (tls:// needs "
                "certificates it does not configure, ucx:// needs UCX)")
    if not 1 <= int(match["port"]) <= 65535:
        return f"port {match['port']} is not between 1 and 65535"
    if match["host"].startswith("["):
        import ipaddress
        try:
            ipaddress.IPv6Address(match["host"][1:-1])
        except ValueError:
            return f"{match['host']} is not an IPv6 address"
    return ""
