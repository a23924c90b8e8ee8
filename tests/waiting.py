"""Waiting for a state another process reaches on its own, never for a span of time."""
from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Callable, Iterator

POLL_SECONDS = 0.02
TCP_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
LISTEN, TIME_WAIT = "0A", "06"  # the `st` column of /proc/net/tcp: neither is one end of a live connection


def wait_until(reached: Callable[[], bool], what: str, within: float = 30.0) -> None:
    """Return as soon as `reached()` is true; fail naming `what` if it is still false after `within` seconds."""
    deadline = time.monotonic() + within
    while not reached():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} after {within:g} s")
        time.sleep(POLL_SECONDS)


def _connection_ends() -> Iterator[tuple[int, int, int, int]]:
    """(local port, remote port, bytes not yet acknowledged, bytes not yet read) of each end of a live TCP
    connection in this network namespace, as the kernel lists them."""
    for table in TCP_TABLES:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            _, local, remote, state, queues = line.split()[:5]
            if state in (LISTEN, TIME_WAIT):
                continue
            unacknowledged, unread = (int(queue, 16) for queue in queues.split(":"))
            yield int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16), unacknowledged, unread


def wait_until_server_has_read(connection: socket.socket, within: float = 30.0) -> None:
    """Return once the local server at the other end of `connection` has read every byte sent on it: none
    left unacknowledged on this end, none waiting in the server end's receive queue."""
    own_port, server_port = connection.getsockname()[1], connection.getpeername()[1]

    def all_read() -> bool:
        ends = {(local, remote): (unacknowledged, unread) for local, remote, unacknowledged, unread in _connection_ends()}
        ours, theirs = ends.get((own_port, server_port)), ends.get((server_port, own_port))
        return ours is not None and theirs is not None and ours[0] == 0 and theirs[1] == 0

    wait_until(all_read, f"everything sent from port {own_port} read by the server on port {server_port} "
               "(/proc/net/tcp: its end of the connection still holds unread bytes, or is gone)", within)
