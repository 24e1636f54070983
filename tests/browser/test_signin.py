"""The sign-in page in Chromium against the real server: a token planted in the victim's browser before
the login never signs anybody in (session fixation), before and after the victim logs out and in again;
an expired tab's link leads to the sign-in page and back to the page; and the server takes the browser's
address from the socket, whatever X-Forwarded-For says."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect

from browser.test_browser import (  # noqa: F401  (fixtures)
    DEMO_PASSWORD,
    TIMEOUT,
    _login,
    _open,
    _page,
    _server_app_rows,
    _settled,
    browser,
    server,
)
from examdash.domain import sessions

pytestmark = pytest.mark.browser


def _plant(page, url: str, token: str) -> None:
    page.context.add_cookies([{"name": "examdash_session", "value": token, "url": url}])


def _session_cookie(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "examdash_session")


def test_a_planted_token_never_signs_in_the_second_browser(server, browser):
    planted = sessions.new_token()
    victim = _page(browser)
    _plant(victim, server["url"], planted)
    _login(victim, server["url"], "staff", DEMO_PASSWORD["staff"])
    expect(victim.get_by_role("heading", name="总览").first).to_be_visible()
    issued = _session_cookie(victim)
    assert issued != planted
    attacker = _page(browser)
    _plant(attacker, server["url"], planted)
    attacker.goto(server["url"])
    _settled(attacker)
    assert urllib.parse.urlparse(attacker.url).path == "/signin"
    expect(attacker.get_by_label("密码")).to_be_visible()
    expect(attacker.get_by_role("heading", name="总览")).to_have_count(0)
    # the victim logs out and in again: the planted token still signs in nobody
    victim.get_by_role("button", name="退出登录").click()
    _settled(victim)
    _plant(victim, server["url"], planted)
    _login(victim, server["url"], "staff", DEMO_PASSWORD["staff"])
    assert _session_cookie(victim) not in (planted, issued)
    attacker.goto(f"{server['url']}/scores")
    _settled(attacker)
    expect(attacker.get_by_label("密码")).to_be_visible()
    assert "examdash_session" not in {c["name"] for c in attacker.context.cookies()}  # the stale token was deleted
    victim.context.close()
    attacker.context.close()


def test_an_ended_tab_links_to_the_sign_in_page_and_back(server, browser):
    page = _page(browser)
    _login(page, server["url"], "staff", DEMO_PASSWORD["staff"])
    _open(page, "成绩")
    tab = page.context.new_page()
    tab.set_default_timeout(TIMEOUT)
    tab.goto(f"{server['url']}/attendance?batch=2023-2")
    _settled(tab)
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("link", name="前往登录页")).to_be_visible()
    tab.reload()
    _settled(tab)
    assert urllib.parse.urlparse(tab.url).path == "/signin"
    page.get_by_role("link", name="前往登录页").click()
    _settled(page)
    page.get_by_label("用户名").fill("staff")
    page.get_by_label("密码").fill(DEMO_PASSWORD["staff"])
    page.get_by_role("button", name="登录").click()
    _settled(page)
    assert urllib.parse.urlparse(page.url).path == "/scores"  # back on the page the tab was showing
    expect(page.get_by_role("heading", name="成绩").first).to_be_visible()
    page.context.close()


def test_the_server_takes_the_address_from_the_socket_not_x_forwarded_for(server):
    mark = _server_app_rows(server, "select coalesce(max(event_id), 0) from request_events")[0][0]
    for forwarded in ("203.0.113.77", "not-an-address"):
        with urllib.request.urlopen(urllib.request.Request(f"{server['url']}/signin")) as answer:
            page = answer.read().decode()
            jar = answer.headers.get_all("set-cookie")
        token = page.split('name="csrf" value="')[1].split('"')[0]
        nonce = next(c.split(";")[0] for c in jar if c.startswith("examdash_signin="))
        body = urllib.parse.urlencode({"csrf": token, "username": "staff", "password": "wrong-password-1"}).encode()
        request = urllib.request.Request(f"{server['url']}/signin", data=body,
                                         headers={"Cookie": nonce, "X-Forwarded-For": forwarded})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 401
    details = _server_app_rows(server, "select detail from request_events where action = 'login_failed' "
                                       "and event_id > :n order by event_id", {"n": mark})
    assert len(details) == 2 and all('"client": "local"' in d for (d,) in details)
