"""The session cookie: an ASGI middleware for serve.py's st.App.

When a browser asks for an app page (an HTML response) without a well-formed session token, the answer
sets one: `examdash_session=<random 256-bit token>; HttpOnly; SameSite=Lax; Path=/` (and `Secure` when
the request came over HTTPS, directly or through the trusted reverse proxy). The token carries nothing:
it names the browser, and examdash.domain.sessions links it to an account at login. The page's
websocket handshake carries the cookie, where the script reads it through st.context.cookies. No
JavaScript reads or writes it. It is a browser-session cookie (no Max-Age): the server-side record
decides how long a login lasts.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from examdash import config
from examdash.domain import sessions

COOKIE = "examdash_session"
NO_SESSION = frozenset({"/lookup"})  # plain HTTP pages that no Streamlit session serves: no session token


def token_from_header(cookie_header: str | None) -> str | None:
    if not cookie_header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(cookie_header)
    except Exception:  # a malformed Cookie header: as if there were none
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None and sessions.valid_token(morsel.value) else None


def https(scope) -> bool:
    """Whether the request came over HTTPS, directly or through the trusted reverse proxy."""
    if scope.get("scheme") == "https":
        return True
    if config.trust_proxy():
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-proto":
                return value.decode("latin-1").split(",")[-1].strip().lower() == "https"
    return False


def set_cookie_value(token: str, secure: bool) -> str:
    return f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")


class SessionCookie:
    """Pure ASGI middleware (it does not buffer bodies or touch websockets)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD") or scope.get("path") in NO_SESSION:
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"cookie"), None)
        if token_from_header(header) is not None:
            await self.app(scope, receive, send)
            return
        cookie = set_cookie_value(sessions.new_token(), https(scope)).encode("latin-1")

        async def send_with_cookie(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    message = {**message, "headers": headers + [(b"set-cookie", cookie)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
