"""Sessions across tabs and reloads, in AppTest: every AppTest is a new browser tab (a new Streamlit
session); `web.session_token` stands in for the cookie the sign-in page sets and serve.py's middleware
passes on (AppTest cannot send cookies; the sign-in page is tested in tests/web/test_signin_route.py, the
middleware below, and the whole path in tests/browser). Also: one identity check and one read of the
store's state per page run."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from helpers import ROOT, app_rows, app_scalar, login, rows, scalar
from streamlit.testing.v1 import AppTest

from examdash import web
from examdash.domain import auth, sessions
from examdash.store import appdb, db
from examdash.web import cookies


def tab() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()


def signed_in(at: AppTest) -> bool:
    return not any(t.key == "login_username" for t in at.text_input)


@pytest.fixture
def browser_token(private_app, monkeypatch):
    """One browser: every tab opened in the test carries this token."""
    token = sessions.new_token()
    monkeypatch.setattr(web, "session_token", lambda: token)
    return token


def signin(con, token: str, username: str) -> AppTest:
    """What the sign-in page does at a login (a record for the token it issued), then a tab of that browser."""
    sessions.open_session(con, token, username, auth.reload_user(con, username).epoch, "password")
    return tab()


def test_a_new_tab_of_the_browser_is_signed_in_and_logout_ends_every_tab(private_app, browser_token):
    first = signin(private_app, browser_token, "staff")
    assert signed_in(first) and not first.exception
    second = tab()  # a reload, or a link opened in another tab
    assert signed_in(second) and second.session_state[web.USER_KEY].username == "staff"
    assert second.session_state[web.WEB_SESSION_KEY] == first.session_state[web.WEB_SESSION_KEY]
    first.button(key="app_logout").click().run()
    assert not signed_in(first)
    second.run()  # its next page run
    assert not signed_in(second) and "已退出登录" in " ".join(i.value for i in second.info)
    assert not signed_in(tab())
    assert app_scalar(private_app, "select count(*) from web_sessions where revoked_at is null") == 0


def test_without_a_cookie_each_tab_signs_in_on_its_own(private_app, monkeypatch):
    monkeypatch.setattr(web, "session_token", lambda: None)
    assert signed_in(login(tab(), "staff")) and not signed_in(tab())
    assert app_scalar(private_app, "select count(*) from web_sessions") == 0


def test_a_login_in_the_app_never_binds_the_token_the_browser_brought(private_app, browser_token):
    """A token planted in the browser (session fixation): the in-app form signs in this tab only; a second
    browser holding the same token, and this browser's next tab, are signed in as nobody."""
    first = login(tab(), "staff")
    assert signed_in(first)
    assert app_scalar(private_app, "select count(*) from web_sessions") == 0
    assert not signed_in(tab())


def test_another_browser_is_not_signed_in(private_app, monkeypatch):
    tokens = iter([sessions.new_token(), sessions.new_token()])
    current = {"token": next(tokens)}
    monkeypatch.setattr(web, "session_token", lambda: current["token"])
    assert signed_in(signin(private_app, current["token"], "staff"))
    current["token"] = next(tokens)
    assert not signed_in(tab())


@pytest.mark.parametrize("change, notice", [
    (lambda con: auth.reset_password(con, "staff", "Brand-new-pass9", "admin"), "账号密码已重置"),
    (lambda con: auth.set_active(con, "staff", False, "admin"), "账号已停用"),
])
def test_a_password_reset_or_disabling_signs_out_every_tab(private_app, browser_token, change, notice):
    first = signin(private_app, browser_token, "staff")
    second = tab()
    change(private_app)
    for at in (first, second):
        at.run()
        assert not signed_in(at) and notice in " ".join(i.value for i in at.info)
    assert not signed_in(tab())


def test_an_idle_browser_session_expires_for_every_tab(private_app, browser_token):
    first = signin(private_app, browser_token, "staff")
    with db.app(private_app).transaction() as run:
        run("update web_sessions set expires_at = :t", {"t": appdb.stamp(db.clock(private_app) - dt.timedelta(seconds=1))})
    first.run()
    assert not signed_in(first) and "会话已超时" in " ".join(i.value for i in first.info)
    assert not signed_in(tab())


def test_a_session_record_of_an_older_password_signs_nobody_in(private_app, browser_token):
    signin(private_app, browser_token, "staff")
    with db.transaction(private_app) as cur:  # the epoch moved on without the record being closed
        cur.execute("update users set session_epoch = session_epoch + 1 where username = 'staff'")
    assert not signed_in(tab())
    assert app_rows(private_app, "select revoked_reason from web_sessions") == [("账号密码已重置",)]


def test_a_page_run_reads_the_store_state_once_and_checks_the_identity_without_queries(private_app, monkeypatch):
    at = login(tab(), "staff")
    at.switch_page("app_pages/scores.py").run()
    reads, reloads = [], []
    real_state, real_reload = db.run_state, auth.reload_user
    monkeypatch.setattr(db, "run_state", lambda *a, **k: reads.append(1) or real_state(*a, **k))
    monkeypatch.setattr(auth, "reload_user", lambda *a, **k: reloads.append(1) or real_reload(*a, **k))
    at.run()
    assert not at.exception and at.title and "成绩" in at.title[0].value
    assert (len(reads), len(reloads)) == (1, 0)


def test_a_change_to_an_account_however_written_is_seen_at_the_next_page_run(private_app, monkeypatch):
    monkeypatch.setattr(web, "session_token", lambda: None)
    at = login(tab(), "staff")
    school = scalar(private_app, "select school_code from schools limit 1")
    with db.transaction(private_app) as cur:  # not through auth: the accounts fingerprint still changes
        cur.execute("update users set role = 'school', school_code = $s where username = 'staff'", {"s": school})
    at.run()
    assert not signed_in(at) and "账号权限已变更" in " ".join(i.value for i in at.info)


def test_the_page_run_sees_its_own_write(private_app, monkeypatch):
    """A write inside a page run (an import, a decision) moves the data version the run's later queries use."""
    monkeypatch.setattr(web, "session_token", lambda: None)
    at = login(tab(), "staff")
    assert signed_in(at)
    web.begin_run()
    try:
        web._RUN.run.checked, web._RUN.run.user = True, auth.reload_user(private_app, "staff")
        before = web.data_version()
        with db.transaction(private_app) as cur:
            db.bump_version(cur)
        assert web.data_version() == db.data_version(private_app) > before
    finally:
        web.end_run()


# --- the cookie middleware ------------------------------------------------------------------------------


def _request(path="/", method="GET", cookie=None, content_type=b"text/html; charset=utf-8", scheme="http", proxy=None,
             open_tokens=(), kind="http", extra=()):
    """One request through the middleware: (status, headers sent, the headers the app saw)."""
    scope = {"type": kind, "method": method, "path": path, "scheme": scheme, "headers": list(extra),
             "query_string": b"a=1"}
    if cookie:
        scope["headers"].append((b"cookie", cookie.encode()))
    if proxy:
        scope["headers"].append((b"x-forwarded-proto", proxy.encode()))
    sent, seen = [], {}

    async def app(scope, receive, send):
        seen.update({k.decode(): v.decode() for k, v in scope["headers"]})
        if kind == "http":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]})
            await send({"type": "http.response.body", "body": b"ok"})

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    asyncio.run(cookies.SessionCookie(app, signed_in=lambda token: token in open_tokens)(scope, receive, send))
    if kind != "http":
        return None, {}, seen
    headers = {}
    for k, v in sent[0]["headers"]:
        headers.setdefault(k.decode(), []).append(v.decode())
    assert sent[-1]["type"] == "http.response.body" and not sent[-1].get("more_body")
    return sent[0]["status"], headers, seen


def test_a_page_without_an_open_login_goes_to_the_sign_in_page_and_gets_no_token():
    status, headers, _ = _request("/scores")
    assert status == 303 and headers["location"] == ["/signin?next=%2Fscores%3Fa%3D1"]
    assert "set-cookie" not in headers  # tokens are issued by the sign-in page at a login, nowhere else


def test_a_token_not_signed_in_is_deleted_and_an_open_one_passes_under_one_name():
    planted, good = sessions.new_token(), sessions.new_token()
    status, headers, _ = _request(cookie=f"{cookies.COOKIE}={planted}")
    assert status == 303 and headers["set-cookie"][0].startswith(f"{cookies.COOKIE}=; Path=/; Max-Age=0")
    status, headers, seen = _request(cookie=f"other=1; {cookies.COOKIE}={good}", open_tokens={good})
    assert status == 200 and "set-cookie" not in headers and seen["cookie"] == f"other=1; {cookies.COOKIE}={good}"
    assert _request(cookie=f"{cookies.COOKIE}=forged")[0] == 303  # malformed: as none


def test_assets_posts_the_login_page_and_single_sign_on_pass():
    assert _request(content_type=b"application/javascript")[0] == 200  # only an HTML page is redirected
    assert _request(method="POST")[0] == 200
    assert _request("/login")[0] == 200  # Streamlit's own page with the single sign-on button
    assert _request(cookie="_streamlit_user=signed")[0] == 200  # Streamlit completes that login itself


def test_over_https_only_the_host_prefixed_cookie_counts():
    token = sessions.new_token()
    assert _request(scheme="https", cookie=f"{cookies.COOKIE}={token}", open_tokens={token})[0] == 303
    status, _, seen = _request(scheme="https", cookie=f"{cookies.SECURE_COOKIE}={token}", open_tokens={token})
    assert status == 200 and seen["cookie"] == f"{cookies.COOKIE}={token}"
    assert cookies.set_cookie_value(token, True) == f"__Host-examdash_session={token}; Path=/; HttpOnly; SameSite=Lax; Secure"
    # the proxy's word on the scheme counts only when the proxy is trusted
    assert _request(proxy="https", cookie=f"{cookies.SECURE_COOKIE}={token}", open_tokens={token})[0] == 303


def test_over_https_the_proxy_is_believed_only_when_trusted(monkeypatch):
    token = sessions.new_token()
    monkeypatch.setenv("EXAMDASH_TRUST_PROXY", "1")
    assert _request(proxy="https", cookie=f"{cookies.SECURE_COOKIE}={token}", open_tokens={token})[0] == 200


def test_the_websocket_sees_only_the_allowed_token_and_the_served_mark():
    token = sessions.new_token()
    _, _, seen = _request("/_stcore/stream", kind="websocket", scheme="wss", cookie=f"{cookies.COOKIE}={token}; x=2")
    assert seen["cookie"] == "x=2" and seen[cookies.SERVED_HEADER.decode()] == cookies.SIGNIN
    _, _, seen = _request("/_stcore/stream", kind="websocket", scheme="ws", cookie=f"{cookies.COOKIE}={token}",
                          extra=[(cookies.SERVED_HEADER, b"https://evil.example/")])
    assert seen["cookie"] == f"{cookies.COOKIE}={token}" and seen[cookies.SERVED_HEADER.decode()] == cookies.SIGNIN


def test_a_signed_out_page_view_is_not_answered_from_the_cache():
    status, _, seen = _request("/scores", extra=[(b"if-none-match", b'"abc"'), (b"if-modified-since", b"x")])
    assert status == 303 and "if-none-match" not in seen and "if-modified-since" not in seen


def test_the_served_entry_point_is_app_py_with_the_middleware_and_the_plain_pages():
    import importlib

    from starlette.routing import Route

    serve = importlib.import_module("serve")
    text = (ROOT / "serve.py").read_text(encoding="utf-8")
    assert 'st.App("app.py", routes=lookup_route.routes + signin_route.routes,' in text
    assert "middleware=[Middleware(SessionCookie, signed_in=signin_route.signed_in)]" in text
    assert "clients.install()" in text
    routes = serve.lookup_route.routes + serve.signin_route.routes
    assert [(r.path, sorted(r.methods)) for r in routes if isinstance(r, Route)] == [
        ("/lookup", ["GET", "HEAD", "POST"]), ("/signin", ["GET", "HEAD", "POST"])]
    assert "serve.py" in (ROOT / "Makefile").read_text(encoding="utf-8")
