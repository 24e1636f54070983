"""登录 as a plain HTTP page (examdash/web/signin_route.py): a login ends under a token this response issued,
never under the one the browser brought (session fixation); the form's CSRF token; where it goes after the
login; the cookie's name and flags over HTTP and HTTPS; throttling and events as for any login. Driven
through the route's ASGI interface in-process (the whole path in Chromium: tests/browser)."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

import pytest
from helpers import app_rows, demo_password
from starlette.applications import Starlette

from examdash import web
from examdash.domain import sessions
from examdash.store import db
from examdash.web import cookies, signin_route


class Browser:
    """A browser without JavaScript: keeps cookies (name -> value), reads the form's token, posts the form."""

    def __init__(self, app, peer: str = "10.20.0.1", cookies_: dict | None = None) -> None:
        self.app, self.peer, self.cookies, self.set = app, peer, dict(cookies_ or {}), []

    def request(self, method: str, query: str = "", body: bytes = b"", headers: dict | None = None):
        head = [(b"host", b"testserver")] + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if self.cookies:
            head.append((b"cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()).encode()))
        if body:
            head += [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
                 "path": "/signin", "raw_path": b"/signin", "query_string": query.encode(), "root_path": "",
                 "headers": head, "client": (self.peer, 50000), "server": ("testserver", 80)}
        sent, out = [{"type": "http.request", "body": body, "more_body": False}], []

        async def receive():
            return sent.pop(0) if sent else {"type": "http.disconnect"}

        async def send(message):
            out.append(message)

        asyncio.run(self.app(scope, receive, send))
        start = next(m for m in out if m["type"] == "http.response.start")
        got = {}
        for k, v in start["headers"]:
            got.setdefault(k.decode().lower(), []).append(v.decode())
        self.set = got.get("set-cookie", [])
        for cookie in self.set:
            name, _, rest = cookie.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        text = b"".join(m.get("body", b"") for m in out if m["type"] == "http.response.body").decode()
        return start["status"], got, text

    def login(self, username: str, password: str, next_page: str = "/", headers: dict | None = None, csrf=None):
        _, _, page = self.request("GET", urlencode({"next": next_page}))
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1) if csrf is None else csrf
        form = {"csrf": token, "username": username, "password": password, "next": next_page}
        return self.request("POST", body=urlencode(form).encode(), headers=headers)


@pytest.fixture
def app(fresh_db_path, monkeypatch):
    monkeypatch.setenv("EXAMDASH_DB", str(fresh_db_path))
    monkeypatch.delenv("EXAMDASH_TRUST_PROXY", raising=False)
    web.forget_connections()
    yield Starlette(routes=signin_route.routes)
    web.forget_connections()


@pytest.fixture
def con(app, fresh_db_path):
    return web.con()


def test_the_form_has_labelled_fields_and_a_token_bound_to_its_own_cookie(app):
    status, headers, page = Browser(app).request("GET", "next=%2Fscores")
    assert status == 200 and 'for="username">用户名' in page and 'for="password">密码' in page
    assert 'type="password"' in page and 'name="next" value="/scores"' in page
    assert any(c.startswith("examdash_signin=") and "SameSite=strict" in c and "HttpOnly" in c
               for c in headers["set-cookie"])
    assert headers["cache-control"] == ["no-store"] and headers["x-frame-options"] == ["DENY"]


def test_a_login_ends_under_a_new_token_and_the_planted_one_signs_in_nobody(app, con):
    planted = sessions.new_token()
    victim = Browser(app, cookies_={cookies.COOKIE: planted})
    status, headers, _ = victim.login("staff", demo_password("staff"), "/scores")
    assert status == 303 and headers["location"] == ["/scores"]
    issued = victim.cookies[cookies.COOKIE]
    assert issued != planted and sessions.valid_token(issued)
    assert f"{cookies.COOKIE}={issued}; Path=/; HttpOnly; SameSite=Lax" in victim.set
    assert signin_route.signed_in(issued) and not signin_route.signed_in(planted)
    assert sessions.find(con, issued)[1] == "staff"
    # the victim logs out and in again: still a new token each time, never the planted one
    sessions.revoke_token(con, issued, "已退出登录")
    victim.cookies[cookies.COOKIE] = planted
    victim.login("staff", demo_password("staff"))
    assert victim.cookies[cookies.COOKIE] not in (planted, issued) and not signin_route.signed_in(planted)


def test_a_login_closes_what_the_browser_held_before(app, con):
    browser = Browser(app)
    browser.login("staff", demo_password("staff"))
    first = browser.cookies[cookies.COOKIE]
    browser.login("admin", demo_password("admin"))
    assert not signin_route.signed_in(first) and sessions.find(con, browser.cookies[cookies.COOKIE])[1] == "admin"
    assert ("重新登录",) in app_rows(con, "select revoked_reason from web_sessions where revoked_at is not null")


def test_over_https_the_cookie_is_host_prefixed_and_secure(app, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TRUST_PROXY", "1")
    browser = Browser(app)
    browser.login("staff", demo_password("staff"), headers={"X-Forwarded-Proto": "https"})
    issued = browser.cookies[cookies.SECURE_COOKIE]
    assert f"__Host-examdash_session={issued}; Path=/; HttpOnly; SameSite=Lax; Secure" in browser.set
    assert cookies.COOKIE not in browser.cookies


def test_a_wrong_password_or_a_forged_form_signs_nobody_in(app, con):
    browser = Browser(app)
    status, _, page = browser.login("staff", "wrong-password-1")
    assert status == 401 and "用户名或密码错误" in page and 'value="staff"' in page
    status, _, page = Browser(app).login("staff", demo_password("staff"), csrf="1.forged")
    assert status == 403 and "页面已过期" in page
    assert cookies.COOKIE not in browser.cookies
    assert app_rows(con, "select count(*) from web_sessions") == [(0,)]
    events = [a for (a,) in app_rows(con, "select action from request_events order by event_id")]
    assert events == ["login_failed"]  # the forged form reached no password check


@pytest.mark.parametrize("asked, lands", [
    ("/scores?batch=2023-2&level=初级", "/scores?batch=2023-2&level=%E5%88%9D%E7%BA%A7"),
    ("/scores?level=%E5%88%9D%E7%BA%A7", "/scores?level=%E5%88%9D%E7%BA%A7"), ("/", "/"),
    ("https://evil.example/", "/"), ("//evil.example/x", "/"), ("/no_such_page", "/"), ("/_stcore/health", "/"),
    ("javascript:alert(1)", "/"),
])
def test_after_the_login_only_an_app_page_of_this_server(app, asked, lands):
    _, headers, _ = Browser(app).login("staff", demo_password("staff"), asked)
    assert headers["location"] == [lands]


def test_the_client_is_the_socket_peer_whatever_x_forwarded_for_says(app, con):
    Browser(app, peer="10.40.0.9").login("staff", "wrong-password-1", headers={"X-Forwarded-For": "203.0.113.5"})
    Browser(app, peer="10.40.0.9").login("staff", "wrong-password-1", headers={"X-Forwarded-For": "not-an-address"})
    details = [d for (d,) in app_rows(con, "select detail from request_events where action = 'login_failed' "
                                           "order by event_id")]
    assert all('"client": "10.40.0.9"' in d for d in details)
    assert db.app(con).rows("select key from throttle where kind = 'login_client'") == [("10.40.0.9",)]
