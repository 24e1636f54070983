"""Whose request is it: the browser's address, for audit rows and throttles.

With EXAMDASH_TRUST_PROXY unset the socket's peer is the browser, and X-Forwarded-For is ignored whatever
it says (serve.py also turns off uvicorn's own rewriting of the peer from that header, which trusts it from
127.0.0.1). With N proxies of ours in front, each appends the peer it saw, so the browser is the N-th entry
from the right; entries left of it are whatever the browser sent. The key a throttle counts under is
examdash.domain.auth.client_key: an address, `local` for this machine's loopback, or one shared key for
anything that is not an address (never `local`).
"""

from __future__ import annotations

from examdash import config


def forwarded_entry(forwarded: str | None, hops: int) -> str | None:
    """The N-th X-Forwarded-For entry from the right (the address the outermost proxy of ours saw), '' when
    the header is shorter than the chain (misconfigured: the caller's key rule counts it as unparsable)."""
    if not forwarded:
        return None
    entries = [e.strip() for e in forwarded.split(",")]
    return entries[-hops] if len(entries) >= hops else ""


def address(peer: str | None, forwarded: str | None) -> str | None:
    """The browser's address from the socket's peer and the request's X-Forwarded-For header."""
    hops = config.proxy_hops()
    if hops:
        entry = forwarded_entry(forwarded, hops)
        if entry is not None:
            return entry
    return peer


def install() -> None:
    """Stop uvicorn from rewriting the request's peer and scheme from X-Forwarded-For/-Proto (it does so
    whenever the peer is 127.0.0.1, so any local process, or a proxy we were not told about, could choose
    the address a throttle counts). Which headers to believe is this module's question, answered by
    EXAMDASH_TRUST_PROXY. Patched on the class: the server has wrapped the app by the time serve.py runs."""
    from uvicorn.middleware import proxy_headers

    async def as_sent(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)

    proxy_headers.ProxyHeadersMiddleware.__call__ = as_sent
