"""Served connections get TCP_NODELAY (examdash/web/tcp.py): without it every response after the first on a
kept-alive connection waited about 40 ms for the client's delayed ACK."""

from __future__ import annotations

import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

from examdash.web import tcp


class _Transport:
    def __init__(self, sock):
        self.sock = sock

    def get_extra_info(self, name, default=None):
        return self.sock if name == "socket" else default


def test_a_connection_made_by_uvicorn_gets_tcp_nodelay(monkeypatch):
    seen = []
    monkeypatch.setattr(H11Protocol, "connection_made", lambda self, transport: seen.append(transport))
    monkeypatch.setattr(tcp, "_DONE", set())
    tcp.install()
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    try:
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # what asyncio left it as here
        H11Protocol.connection_made(object.__new__(H11Protocol), _Transport(accepted))
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert len(seen) == 1  # uvicorn's own connection_made still runs
        tcp.install()  # a second install does not wrap twice
        assert H11Protocol in tcp._DONE
    finally:
        for s in (client, accepted, server):
            s.close()
