"""Sessions across tabs and reloads, in AppTest: every AppTest is a new browser tab (a new Streamlit
session); `web.session_token` stands in for the cookie serve.py sets (AppTest cannot send cookies; the
middleware itself is tested below and the whole path in tests/browser). Also: one identity check and
one read of the store's state per page run."""

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


def test_a_new_tab_of_the_browser_is_signed_in_and_logout_ends_every_tab(private_app, browser_token):
    first = login(tab(), "staff")
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


def test_another_browser_is_not_signed_in(private_app, monkeypatch):
    tokens = iter([sessions.new_token(), sessions.new_token()])
    current = {"token": next(tokens)}
    monkeypatch.setattr(web, "session_token", lambda: current["token"])
    login(tab(), "staff")
    current["token"] = next(tokens)
    assert not signed_in(tab())


@pytest.mark.parametrize("change, notice", [
    (lambda con: auth.reset_password(con, "staff", "Brand-new-pass9", "admin"), "账号密码已重置"),
    (lambda con: auth.set_active(con, "staff", False, "admin"), "账号已停用"),
])
def test_a_password_reset_or_disabling_signs_out_every_tab(private_app, browser_token, change, notice):
    first = login(tab(), "staff")
    second = tab()
    change(private_app)
    for at in (first, second):
        at.run()
        assert not signed_in(at) and notice in " ".join(i.value for i in at.info)
    assert not signed_in(tab())


def test_an_idle_browser_session_expires_for_every_tab(private_app, browser_token):
    first = login(tab(), "staff")
    with db.app(private_app).transaction() as run:
        run("update web_sessions set expires_at = :t", {"t": appdb.stamp(db.clock(private_app) - dt.timedelta(seconds=1))})
    first.run()
    assert not signed_in(first) and "会话已超时" in " ".join(i.value for i in first.info)
    assert not signed_in(tab())


def test_a_session_record_of_an_older_password_signs_nobody_in(private_app, browser_token):
    login(tab(), "staff")
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


def _request(path="/", method="GET", cookie=None, content_type=b"text/html; charset=utf-8", scheme="http", proxy=None):
    scope = {"type": "http", "method": method, "path": path, "scheme": scheme, "headers": []}
    if cookie:
        scope["headers"].append((b"cookie", cookie.encode()))
    if proxy:
        scope["headers"].append((b"x-forwarded-proto", proxy.encode()))
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.body", "body": b"ok"})

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    asyncio.run(cookies.SessionCookie(app)(scope, receive, send))
    return [v.decode() for k, v in sent[0]["headers"] if k == b"set-cookie"]


def test_a_page_without_a_token_gets_a_random_httponly_samesite_cookie():
    first, second = _request()[0], _request()[0]
    assert first != second
    name, _, rest = first.partition("=")
    token, *flags = rest.split("; ")
    assert name == cookies.COOKIE and sessions.valid_token(token)
    assert flags == ["Path=/", "HttpOnly", "SameSite=Lax"]


def test_a_well_formed_token_is_kept_and_only_pages_get_one(monkeypatch):
    assert _request(cookie=f"other=1; {cookies.COOKIE}={sessions.new_token()}") == []
    assert len(_request(cookie=f"{cookies.COOKIE}=forged")) == 1  # a malformed one is replaced
    assert _request(content_type=b"application/json") == []  # assets and API answers get none
    assert _request(method="POST") == []
    assert _request(scheme="https")[0].endswith("; Secure")
    assert not _request(proxy="https")[0].endswith("; Secure")  # the proxy's word counts only when trusted
    monkeypatch.setenv("EXAMDASH_TRUST_PROXY", "1")
    assert _request(proxy="https")[0].endswith("; Secure")


def test_the_served_entry_point_is_app_py_with_the_middleware_and_the_lookup_page():
    import importlib

    from starlette.routing import Route

    serve = importlib.import_module("serve")
    text = (ROOT / "serve.py").read_text(encoding="utf-8")
    assert 'st.App("app.py", routes=lookup_route.routes, middleware=[Middleware(SessionCookie)])' in text
    assert [(r.path, sorted(r.methods)) for r in serve.lookup_route.routes if isinstance(r, Route)] == [
        ("/lookup", ["GET", "HEAD", "POST"])]
    assert "serve.py" in (ROOT / "Makefile").read_text(encoding="utf-8")
