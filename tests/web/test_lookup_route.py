"""考生成绩查询 as a plain HTTP page (examdash/web/lookup_route.py): a form with a CSRF token bound to a
cookie, the result page (masked name, scores with one decimal, review outcome, certificate, publicity
dates, the 考务咨询 phone), one message for every kind of miss, escaped input, and the client address
taken from the socket unless the reverse proxy is trusted. Driven through the route's ASGI interface
in-process (no server, no Streamlit session)."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

import pytest
from helpers import app_rows, rows, scalar
from starlette.applications import Starlette

from examdash import web
from examdash.domain import auth, plan, reviews
from examdash.web import lookup_route

BATCH = "2023-1"


class Client:
    """A browser without JavaScript: keeps cookies, reads the form's token, posts the form."""

    def __init__(self, app, peer: str = "10.20.0.1") -> None:
        self.app, self.peer, self.cookies = app, peer, {}

    def request(self, method: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, dict, str]:
        head = [(b"host", b"testserver")] + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if self.cookies:
            head.append((b"cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()).encode()))
        if body:
            head += [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
                 "path": "/lookup", "raw_path": b"/lookup", "query_string": b"", "root_path": "", "headers": head,
                 "client": (self.peer, 50000), "server": ("testserver", 80)}
        sent, out = [{"type": "http.request", "body": body, "more_body": False}], []

        async def receive():
            return sent.pop(0) if sent else {"type": "http.disconnect"}

        async def send(message):
            out.append(message)

        asyncio.run(self.app(scope, receive, send))
        start = next(m for m in out if m["type"] == "http.response.start")
        headers_out = {}
        for k, v in start["headers"]:
            headers_out.setdefault(k.decode().lower(), []).append(v.decode())
        for cookie in headers_out.get("set-cookie", []):
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";")[0]
        text = b"".join(m.get("body", b"") for m in out if m["type"] == "http.response.body").decode()
        return start["status"], headers_out, text

    def get(self) -> str:
        status, _, text = self.request("GET")
        assert status == 200
        return text

    def post(self, ticket: str, id_number: str, csrf: str | None = None, headers: dict | None = None):
        if csrf is None:
            csrf = token(self.get())
        return self.request("POST", urlencode({"csrf": csrf, "ticket": ticket, "id_number": id_number}).encode(), headers)


def token(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def visible(page: str) -> str:
    """The page without its tags and its per-visitor token."""
    return re.sub(r"<[^>]+>", " ", re.sub(r'value="[^"]*"', "", page))


@pytest.fixture
def app(fresh_db_path, monkeypatch):
    monkeypatch.setenv("EXAMDASH_DB", str(fresh_db_path))
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    monkeypatch.delenv("EXAMDASH_TRUST_PROXY", raising=False)
    web.forget_connections()
    yield Starlette(routes=lookup_route.routes)
    web.forget_connections()


@pytest.fixture
def someone(fresh_db_path):
    from examdash.store import db

    con = db.connect(fresh_db_path)
    try:
        return rows(con, "select ticket_no, id_no, name, theory::double, practical::double, total::double from results "
                         "where batch_code = $b and passed and ticket_no is not null order by ticket_no limit 1",
                    {"b": BATCH})[0]
    finally:
        con.close()


def test_the_form_works_without_javascript_and_carries_a_token_bound_to_a_cookie(app):
    client = Client(app)
    status, headers, page = client.request("GET")
    assert status == 200 and headers["content-type"][0].startswith("text/html")
    assert '<form method="post" action="/lookup"' in page and 'name="ticket"' in page and 'name="id_number"' in page
    assert 'type="hidden" name="csrf"' in page and "<script" not in page
    assert 'name="viewport"' in page  # a phone-sized page
    assert lookup_route.COOKIE in client.cookies
    cookie = next(c for c in headers["set-cookie"] if c.startswith(lookup_route.COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/lookup" in cookie
    assert headers["cache-control"] == ["no-store"] and "frame-ancestors 'none'" in headers["content-security-policy"][0]
    assert "2023-06-12 至 2023-06-18" in page and plan.load_plan().contact.phone in page


def test_a_post_without_its_cookie_or_with_a_forged_token_looks_nothing_up(app, someone, fresh_db_path):
    from examdash.store import db

    ticket, id_no, *_ = someone
    page = Client(app).get()
    stranger = Client(app, "10.20.0.9")  # another browser: the token is not for its cookie
    status, _, text = stranger.post(ticket, id_no, csrf=token(page))
    assert status == 403 and "页面已过期" in text and "合格" not in text
    status, _, text = Client(app).post(ticket, id_no, csrf="1.deadbeef")
    assert status == 403
    con = db.connect(fresh_db_path)
    try:
        assert app_rows(con, "select count(*) from request_events where action like 'candidate_lookup%'") == [(0,)]
    finally:
        con.close()


def test_the_result_page_shows_the_own_result_masked_with_one_decimal_and_the_phone(app, someone):
    ticket, id_no, name, theory, practical, total = someone
    status, _, page = Client(app).post(ticket, id_no.lower())
    assert status == 200
    text = visible(page)
    assert ticket in text and name not in text and name[0] + "*" in text
    for score in (theory, practical, total):
        assert f"{score:.1f}" in text
    assert "合格" in text and "2023-06-12 至 2023-06-18" in text and "400-081-0003" in text
    assert "成绩公示期未结束" not in text or "合格，公示期未结束" in text


def test_every_kind_of_miss_gets_the_same_page(app, someone):
    ticket, id_no, *_ = someone
    wrong_id = id_no[:14] + ("000" if id_no[14:17] != "000" else "001")
    from examdash.domain import ids

    wrong_id += ids.id_check_char(wrong_id)
    pages = set()
    for t, i in [(ticket, wrong_id), ("231099999999", id_no), (ticket, id_no[-6:]), ("x", "y")]:
        status, _, page = Client(app, "10.20.1.1").post(t, i)
        assert status == 200 and "未查到成绩" in page
        pages.add(re.sub(r'(value|id)="[^"]*"', "", page))
    assert len(pages) == 1


def test_what_the_visitor_typed_comes_back_escaped(app):
    status, _, page = Client(app).post('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>')
    assert status == 200 and "<script>alert" not in page and "<img src=x" not in page


def test_a_review_outcome_shows_the_scores_before_and_after_and_the_note(app, fresh_db_path):
    from examdash.store import db

    con = db.connect(fresh_db_path)
    try:
        leader, staff = auth.reload_user(con, "school1"), auth.reload_user(con, "staff")
        ticket, id_no, theory, practical, total = rows(
            con, "select ticket_no, id_no, theory::double, practical::double, total::double from results "
                 "where batch_code = $b and school_code = $s and sat and not passed and ticket_no is not null "
                 "and ticket_no not in (select ticket_no from review_items) order by ticket_no limit 1",
            {"b": BATCH, "s": leader.school_code})[0]
        reviews.file_request(con, leader, BATCH, [(ticket, "理论", "理论第二大题漏判")])
        item = scalar(con, "select item_id from review_items where ticket_no = $t", {"t": ticket})
        reviews.decide(con, staff, item, "更正", "理论第二大题漏判 8 分", theory=max(theory + 8, 60.0),
                       practical=max(practical, 60.0))
    finally:
        con.close()
    status, _, page = Client(app).post(ticket, id_no)
    text = visible(page)
    assert "成绩已更正" in text and "理论第二大题漏判 8 分" in text and "2023-06-14" in text
    assert f"理论 {theory:.1f} / 实操 {practical:.1f} / 总分 {total:.1f}" in text
    assert f"{max(theory + 8, 60.0):.1f}" in text


def test_the_client_is_the_socket_peer_unless_the_proxy_is_trusted(app, someone, fresh_db_path, monkeypatch):
    from examdash.store import db

    ticket, id_no, *_ = someone
    Client(app, "10.30.0.1").post(ticket, id_no, headers={"X-Forwarded-For": "203.0.113.7"})
    monkeypatch.setenv("EXAMDASH_TRUST_PROXY", "1")
    Client(app, "10.30.0.1").post(ticket, id_no, headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.8"})
    con = db.connect(fresh_db_path)
    try:
        details = [d for (d,) in app_rows(con, "select detail from request_events where action = 'candidate_lookup' "
                                               "order by event_id")]
    finally:
        con.close()
    assert '"client": "10.30.0.1"' in details[0] and '"client": "203.0.113.8"' in details[1]
