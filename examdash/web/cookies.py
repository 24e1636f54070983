"""The session cookie: an ASGI middleware for serve.py's st.App.

A session token is issued only by the sign-in page (web/signin_route.py), on its own response, at each
login: `examdash_session=<random 256-bit token>; HttpOnly; SameSite=Lax; Path=/`, and over HTTPS (directly
or through the trusted reverse proxy) `__Host-examdash_session=…; Secure`, a name a sibling subdomain cannot
set. The token carries nothing: the server's record (examdash.domain.sessions) links it to the account.
No JavaScript reads or writes it. It is a browser-session cookie (no Max-Age): the record decides how
long a login lasts.

For every request this middleware
- passes on only the token of the cookie name the scheme allows (over HTTPS the plain name is dropped: a
  sibling subdomain could have planted it), under one name, so the app's pages read one cookie;
- answers an app page's address (any HTML page Streamlit would serve) that no open login stands behind
  with a redirect to the sign-in page, which comes back to the same address after the login; a token the
  server holds no open login for is deleted on the way. Streamlit's own `/login` page (the single sign-on
  button) and a browser holding a single sign-on identity pass, so Streamlit can complete that login;
- marks the app's websocket as served here, so the in-app login (shown when a login ends in an open tab)
  sends the user to the sign-in page instead of offering a form that could not set the cookie.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from examdash import config
from examdash.domain import sessions

COOKIE = "examdash_session"  # over plain HTTP, and the one name the app's pages read
SECURE_COOKIE = "__Host-examdash_session"  # over HTTPS
OIDC_COOKIE = "_streamlit_user"  # Streamlit's signed single sign-on identity cookie
SIGNIN = "/signin"
NO_SESSION = frozenset({"/lookup", SIGNIN})  # plain HTTP pages of serve.py: they read cookies themselves
OPEN_PAGES = frozenset({"/login"})  # Streamlit's own login page: the single sign-on button
SERVED_HEADER = b"x-examdash-signin"  # on the websocket: the sign-in page's path


def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE if secure else COOKIE


def cookie_pairs(header: str | None) -> list[tuple[str, str]]:
    """The name=value pairs of a Cookie header, in order (a malformed pair is skipped)."""
    pairs = []
    for part in (header or "").split(";"):
        name, eq, value = part.strip().partition("=")
        if eq and name:
            pairs.append((name, value.strip().strip('"')))
    return pairs


def token_from_header(cookie_header: str | None, secure: bool = False) -> str | None:
    """The well-formed session token of the cookie name the scheme allows, or None."""
    want = cookie_name(secure)
    for name, value in cookie_pairs(cookie_header):
        if name == want and sessions.valid_token(value):
            return value
    return None


def https(scope) -> bool:
    """Whether the request came over HTTPS, directly or through the trusted reverse proxy."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    if config.trust_proxy():
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-proto":
                return value.decode("latin-1").split(",")[-1].strip().lower() == "https"
    return False


def set_cookie_value(token: str, secure: bool) -> str:
    return f"{cookie_name(secure)}={token}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")


def clear_cookie_value(secure: bool) -> str:
    return f"{cookie_name(secure)}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")


def canonical(headers: list, secure: bool) -> tuple[str | None, bool, bool, list]:
    """(token, had a session cookie, has a single sign-on identity, the headers as the app should see them:
    our cookies removed and the allowed token, if any, under COOKIE)."""
    pairs, out = [], []
    for name, value in headers:
        if name == b"cookie":
            pairs += cookie_pairs(value.decode("latin-1"))
        elif name != SERVED_HEADER:  # only this middleware says where the sign-in page is
            out.append((name, value))
    token = token_from_header("; ".join(f"{n}={v}" for n, v in pairs), secure)
    ours = {COOKIE, SECURE_COOKIE}
    had = any(n in ours for n, _ in pairs)
    others = [f"{n}={v}" for n, v in pairs if n not in ours]
    if token:
        others.append(f"{COOKIE}={token}")
    if others:
        out.append((b"cookie", "; ".join(others).encode("latin-1")))
    return token, had, any(n == OIDC_COOKIE for n, _ in pairs), out


def signin_location(scope) -> str:
    here = scope.get("path") or "/"
    query = scope.get("query_string", b"").decode("latin-1")
    target = here + (f"?{query}" if query else "")
    return f"{scope.get('root_path', '')}{SIGNIN}?" + urllib.parse.urlencode({"next": target})


class SessionCookie:
    """Pure ASGI middleware (it does not buffer bodies). `signed_in(token)` says whether an open login
    stands behind a token (a point read of the application database, run on the thread pool)."""

    def __init__(self, app, signed_in: Callable[[str], bool]) -> None:
        self.app, self.signed_in = app, signed_in

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("path") in NO_SESSION:
            await self.app(scope, receive, send)
            return
        secure = https(scope)
        token, had, oidc, headers = canonical(scope.get("headers", []), secure)
        if scope["type"] == "websocket":
            await self.app({**scope, "headers": headers + [(SERVED_HEADER, SIGNIN.encode())]}, receive, send)
            return
        scope = {**scope, "headers": headers}
        if (scope.get("method") not in ("GET", "HEAD") or scope.get("path") in OPEN_PAGES or oidc
                or (token is not None and await run_in_threadpool(self.signed_in, token))):
            await self.app(scope, receive, send)
            return
        # No conditional request: a page the browser has cached would come back 304 and be shown from the
        # cache instead of redirected (assets are then sent whole, to signed-out browsers only).
        scope["headers"] = [(k, v) for k, v in headers if k not in (b"if-none-match", b"if-modified-since")]
        await self.app(scope, receive, _redirect_pages(send, signin_location(scope), had, secure))


def _redirect_pages(send, location: str, clear: bool, secure: bool):
    """A `send` that turns an HTML page into a redirect to the sign-in page (and deletes a stale token);
    anything else (a script, an image, a health check) goes out as it is."""
    state = {"redirect": False}

    async def wrapped(message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", [])
            content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
            if message.get("status") == 200 and content_type.startswith(b"text/html"):
                state["redirect"] = True
                out = [(b"location", location.encode("latin-1")), (b"content-length", b"0"),
                       (b"cache-control", b"no-store")]
                if clear:
                    out.append((b"set-cookie", clear_cookie_value(secure).encode("latin-1")))
                await send({"type": "http.response.start", "status": 303, "headers": out})
                return
        elif message["type"] == "http.response.body" and state["redirect"]:
            if not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send(message)

    return wrapped
