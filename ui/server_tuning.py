"""Once-per-process server settings: torch's threads, and Nagle's algorithm off on the Streamlit server's TCP
sockets (a workaround for Streamlit 1.67).

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

import streamlit as st

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


THREADS_ENV = "VAE_EXPLORER_TORCH_THREADS"


@st.cache_resource(show_spinner=False)
def configure_torch() -> int:
    """Set torch's intra-op threads once per process: $VAE_EXPLORER_TORCH_THREADS, default 1.

    A server shares its cores between sessions; on a busy machine two intra-op threads that wait for each other
    made one upload take 1.5 s instead of 75 ms, and a training step ten times slower. The setting is
    process-wide, so it is made here (before the first model loads) and never per request or per job."""
    import torch  # here, not at the top: the home page paints before torch has loaded

    value = os.environ.get(THREADS_ENV, "1")
    threads = int(value) if value.isdigit() and int(value) > 0 else 1
    torch.set_num_threads(threads)
    return threads


@st.cache_resource(show_spinner=False)
def tune_server() -> int:
    """Once per server process: TCP_NODELAY on the server's sockets (``ui.server_tuning``: a Streamlit 1.67 bug
    otherwise adds ~40 ms to small responses). Every page calls it through ``model_sidebar``."""
    return disable_nagle()
