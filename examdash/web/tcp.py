"""TCP_NODELAY on the served connections.

Streamlit 1.67 binds its listening socket itself and hands it to uvicorn; asyncio then skips setting
TCP_NODELAY on the accepted connections (it does so only for sockets whose protocol field says TCP, and a
socket made as Streamlit makes it says 0). uvicorn writes a response's headers and its body separately, so
on a kept-alive connection every response after the first waited for the client's delayed ACK: measured
here, 41-48 ms for each second request on a connection (Streamlit's own /_stcore/health included) against
1-6 ms on a new one, and a lookup client managed 10 lookups a second instead of 95. This sets the option as
each connection is made, for whichever of uvicorn's HTTP protocols is in use.
"""

from __future__ import annotations

import logging
import socket

_LOG = logging.getLogger("examdash")
_DONE: set[type] = set()


def _with_nodelay(connection_made):
    def made(self, transport):
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # a socket that is already gone: nothing to speed up
                pass
        return connection_made(self, transport)

    return made


def install() -> None:
    """Set TCP_NODELAY on every connection uvicorn's HTTP protocols accept from now on (once per class)."""
    classes = []
    try:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        classes.append(H11Protocol)
    except ImportError:  # a uvicorn without h11: nothing of it to change
        pass
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        classes.append(HttpToolsProtocol)
    except ImportError:  # httptools is not installed: uvicorn uses h11
        pass
    for cls in classes:
        if cls not in _DONE:
            cls.connection_made = _with_nodelay(cls.connection_made)
            _DONE.add(cls)
    if not classes:
        _LOG.warning("uvicorn's HTTP protocols not found: TCP_NODELAY is not set on served connections")
