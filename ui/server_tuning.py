"""Turn off Nagle's algorithm on the Streamlit server's TCP sockets (a workaround for Streamlit 1.67).

Streamlit 1.67 binds its listening socket itself (``socket.socket(family=...)``, protocol 0) and hands it to uvicorn.
asyncio only sets ``TCP_NODELAY`` on accepted sockets whose ``proto`` is ``IPPROTO_TCP``, so every connection keeps
Nagle's algorithm: on a keep-alive connection a small response body (a decoded digit's image, a websocket frame) waits
for the client's delayed ACK, ~40 ms on Linux (measured: headers at 0.5 ms, a 2 kB JPEG body at 42 ms; the same bug
as uvicorn issue #3149 for pre-bound sockets). Setting ``TCP_NODELAY`` on the listening socket fixes every connection
accepted afterwards (Linux copies the option to accepted sockets); connections already open are fixed directly.
"""

from __future__ import annotations

import os
import socket
import sys

TCP_FAMILIES = (socket.AF_INET, socket.AF_INET6)


def disable_nagle() -> int:
    """Set TCP_NODELAY on this process's TCP sockets (listening and connected). Returns how many were changed.

    Works on Linux (it walks /proc/self/fd); elsewhere it does nothing and returns 0. Never raises."""
    if not sys.platform.startswith("linux"):
        return 0
    changed = 0
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return 0
    for fd in fds:
        try:
            if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                continue
            dup = socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM)  # a duplicate: closing it keeps ours open
        except OSError:
            continue
        with dup:
            try:
                if dup.family not in TCP_FAMILIES or dup.type != socket.SOCK_STREAM:
                    continue
                if not dup.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY):
                    dup.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    changed += 1
            except OSError:  # not a TCP socket after all (e.g. a UNIX socket): leave it
                continue
    return changed
