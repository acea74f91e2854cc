"""Which network interface a federate's core listens on (pure: no helics import)."""

from __future__ import annotations

import re

__all__ = ["join_init_string", "route_interface"]


def route_interface(broker_address: str) -> str:
    """The local IP address this host uses to reach ``broker_address`` (``tcp://HOST:PORT``).

    A connected UDP socket sends nothing; it only asks the OS for the route.
    Loopback brokers give ``127.0.0.1``.
    """
    import socket

    m = re.match(r"^(?:\w+://)?(?P<host>[^:/\s]+)(?::(?P<port>\d+))?", broker_address.strip())
    host = m["host"] if m else broker_address
    port = int(m["port"]) if m and m["port"] else 23500
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((host, port))
            return str(s.getsockname()[0])
    except OSError:
        return "127.0.0.1"


def join_init_string(init: str, broker_address: str, local_interface: str) -> str:
    """``init`` with its broker and listening interface replaced (other options kept)."""
    init = re.sub(r"\s*--(broker_address|local_interface)=\S+", "", init).strip()
    out = f"{init} --broker_address={broker_address} --local_interface={local_interface}"
    return out if "--useosport" in init else out + " --useosport"
