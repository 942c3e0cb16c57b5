"""The classroom server settings that ship with the app, and the TCP_NODELAY workaround for Streamlit's sockets."""

from __future__ import annotations

import socket
import sys
import tomllib
from pathlib import Path

import pytest

from ui.server_tuning import disable_nagle

CONFIG = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"


def test_shipped_server_settings_are_the_classroom_ones():
    cfg = tomllib.loads(CONFIG.read_text())
    assert cfg["server"]["maxUploadSize"] <= 10  # megabytes: a digit photo or a checkpoint, not a video
    assert cfg["server"]["enableXsrfProtection"] is True
    assert cfg["server"]["runOnSave"] is False
    assert cfg["client"]["showErrorDetails"] == "none"  # tracebacks go to the log, never to a student
    assert cfg["client"]["toolbarMode"] == "viewer"  # nobody clears everyone's cached models from the menu
    # a forced full gc.collect() after every rerun held the GIL ~170 ms per click (bench/load_classroom.py)
    assert cfg["runner"]["postScriptGC"] is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="disable_nagle walks /proc/self/fd (Linux only)")
def test_connections_accepted_after_disable_nagle_send_small_writes_at_once():
    # Streamlit 1.67 binds its listener like this: protocol 0, so asyncio never sets TCP_NODELAY on accepted sockets
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    before = socket.create_connection(listener.getsockname())
    old, _ = listener.accept()
    try:
        assert old.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # the bug: Nagle on

        assert disable_nagle() >= 2  # the listener and the connection already open (both ends of it are ours)

        assert old.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1  # open connections are fixed
        client = socket.create_connection(listener.getsockname())
        new, _ = listener.accept()
        with client, new:
            assert new.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1  # and so is every later one
    finally:
        for s in (before, old, listener):
            s.close()


def test_disable_nagle_leaves_other_sockets_alone():
    a, b = socket.socketpair()  # UNIX sockets: no TCP options, must not raise
    with a, b:
        disable_nagle()
        a.sendall(b"still works")
        assert b.recv(32) == b"still works"
