"""Real-browser tests: the real Streamlit server on a free local port, Debian's Chromium driven by
Playwright. Screenshots of every page go to test-output/screenshots/."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from helpers import ROOT, copy_db, own_password, retire_demo_passwords
from playwright.sync_api import expect, sync_playwright

from examdash import demo
from examdash.demo import DEMO_PASSWORD
from examdash.store import db, lake
from examdash.web import navigation

pytestmark = pytest.mark.browser

SHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
TIMEOUT = 60_000
# assertions wait as long as actions: on a loaded CI machine an import or a rerun takes longer than 5 s
expect.set_options(timeout=TIMEOUT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(demo_db_path, folder: Path, prepare=None, **env):
    """The real app on a fresh copy of the demo database (`prepare(con)` changes the copy first)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package (apt-get install chromium)")
    db_file = folder / "browser.ducklake"
    copy_db(demo_db_path, db_file)
    if prepare is not None:
        con = db.connect(db_file)
        prepare(con)
        con.close()
    yield from start_server(db_file, folder, **env)


def start_server(db_file, folder: Path, **env):
    """`streamlit run serve.py` on the store `db_file` (a path or a URL), until the generator is closed."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "EXAMDASH_DB": str(db_file), "PYTHONUNBUFFERED": "1", **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    for line in proc.stdout:  # blocks until the server says it is up (or exits)
        lines.append(line)
        if "URL:" in line:
            break
    if proc.poll() is not None:
        pytest.fail("streamlit did not start:\n" + "".join(lines))
    try:
        yield {"url": f"http://127.0.0.1:{port}", "db": db_file, "folder": folder}
    finally:  # also when the generator is closed early (a test that drives _serve itself)
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(demo_db_path, tmp_path_factory):
    """The real app on the demo store (its accounts have the published passwords)."""
    yield from _serve(demo_db_path, tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def real_server(demo_db_path, tmp_path_factory):
    """The real app on a store whose accounts have passwords of their own (own_password), as real data needs."""
    yield from _serve(demo_db_path, tmp_path_factory.mktemp("browser_real"), retire_demo_passwords)


@pytest.fixture(scope="module")
def brief_server(demo_db_path, tmp_path_factory):
    """The real app with sessions that expire after 9 idle seconds."""
    yield from _serve(demo_db_path, tmp_path_factory.mktemp("browser_brief"), EXAMDASH_SESSION_MINUTES="0.15")


@pytest.fixture(scope="module")
def browser():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def _page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    return page


def _settled(page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_load_state("networkidle")
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=TIMEOUT)
    expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=TIMEOUT)  # no element of a run before


def _cut_metrics(page) -> list[str]:
    """The metric values a card does not show whole (cut with an ellipsis: wider than their box)."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
        .filter(el => [el, ...el.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1))
        .map(el => el.innerText)""")


def _login(page, url, username, password) -> None:
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    _settled(page)


def _choose(page, area, label: str, option: str) -> None:
    """Pick an option of a selectbox (a combobox labelled with the widget's label)."""
    area.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    _settled(page)


def _open(page, title: str) -> None:
    """Go to a page through the menu (as a user does; a reload would also keep the session)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    _settled(page)
    expect(page.get_by_role("heading", name=title).first).to_be_visible()


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def _server_rows(server, sql: str, params: dict | None = None) -> list[tuple]:
    """Rows of the running app's database as committed so far (a DuckLake: read beside the server)."""
    con = db.connect(server["db"], read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def _server_app_rows(server, sql: str, params: dict | None = None) -> list[tuple]:
    """Rows of the running app's application database (web sessions, request events), read beside it."""
    return db.app_of(lake.resolve(server["db"])).rows(sql, params or {})


def test_staff_opens_every_page_with_screenshots(server, browser):
    page = _page(browser)
    _login(page, server["url"], "staff", DEMO_PASSWORD["staff"])
    expect(page.get_by_role("heading", name="总览", exact=False).first).to_be_visible()
    for spec in navigation.pages_for("staff"):
        _open(page, spec.title)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        expect(page.get_by_text("无权访问")).to_have_count(0)
        assert not _cut_metrics(page), (spec.title, _cut_metrics(page))  # at 1440 px every figure shows whole
        page.screenshot(path=str(SHOTS / f"staff_{spec.url}.png"), full_page=True)
    _open(page, "总览")  # what is next, for every running batch
    expect(page.get_by_text("下一节点", exact=False).first).to_be_visible()
    _open(page, "考勤")  # the absent and irregular candidates, with their downloads
    expect(page.get_by_role("heading", name="缺考与违纪名单")).to_be_visible()
    expect(page.get_by_role("button", name="下载名单 .xlsx")).to_be_visible()
    page.context.close()


def test_admin_pages_with_screenshots(server, browser):
    page = _page(browser)
    _login(page, server["url"], "admin", DEMO_PASSWORD["admin"])
    for spec in navigation.pages_for("admin"):
        if "admin" in spec.roles and "staff" not in spec.roles:
            _open(page, spec.title)
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)
            page.screenshot(path=str(SHOTS / f"admin_{spec.url}.png"), full_page=True)
    page.context.close()


def test_filters_change_the_url(server, browser):
    page = _page(browser)
    _login(page, server["url"], "staff", DEMO_PASSWORD["staff"])
    _open(page, "成绩")
    _choose(page, page.locator('[data-testid="stSidebar"]'), "级别", "中级")
    page.wait_for_function("() => new URLSearchParams(location.search).get('level') === '中级'", timeout=TIMEOUT)
    query = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    assert query.get("level") == ["中级"] and query.get("batch") == ["2023-1"]
    assert urllib.parse.urlparse(page.url).path.endswith("/scores")
    page.context.close()
    # a linked view opens, after the login, on the same page with the same filters
    page = _page(browser)
    page.goto(f"{server['url']}/scores?batch=2023-2&level=初级")
    page.get_by_label("用户名").fill("staff")
    page.get_by_label("密码").fill(DEMO_PASSWORD["staff"])
    page.get_by_role("button", name="登录").click()
    _settled(page)
    expect(page.get_by_role("heading", name="成绩").first).to_be_visible()
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_role("combobox", name="考试批次")).to_have_value(re.compile("^2023-2"))
    expect(sidebar.get_by_role("combobox", name="级别")).to_have_value("初级")
    page.context.close()


def test_download_score_table(server, browser):
    page = _page(browser)
    _login(page, server["url"], "staff", DEMO_PASSWORD["staff"])
    _open(page, "成绩")
    # the whole-batch .xlsx is built in the background: progress shows, the page keeps answering
    page.get_by_role("button", name=re.compile(r"^生成 \.xlsx")).click()
    expect(page.get_by_role("progressbar")).to_be_visible()
    _choose(page, page.locator('[data-testid="stSidebar"]'), "级别", "中级")  # the page answers meanwhile
    _choose(page, page.locator('[data-testid="stSidebar"]'), "级别", "全部")
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile(r"^下载 \.xlsx")).click()
    path = server["folder"] / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name.startswith("成绩表_2023-1") and path.suffix == ".xlsx"
    ws = openpyxl.load_workbook(path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) > 100 and "身份证号" in rows[0]
    ids = [r[list(rows[0]).index("身份证号")] for r in rows[1:]]
    assert all("********" in i for i in ids if i)  # masked for staff by default
    # straight on to the second button, as a user would: the first click must not rerun the script,
    # which would hand both buttons new file ids and leave this click asking for one that is gone
    with page.expect_download() as info:
        page.get_by_role("button", name="下载 .csv").first.click()
    csv_path = server["folder"] / info.value.suggested_filename
    info.value.save_as(csv_path)
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(pd.read_csv(csv_path, dtype=str)) == len(rows) - 1
    page.context.close()


def test_the_demo_store_refuses_imports(server, browser):
    page = _page(browser)
    _login(page, server["url"], "admin", DEMO_PASSWORD["admin"])
    _open(page, "导入")
    expect(page.locator('[data-testid="stAlert"]').filter(has_text="是演示数据库")).to_be_visible()
    expect(page.locator('input[type="file"]')).to_have_count(0)
    page.context.close()


def test_upload_on_import_page_changes_the_figures(real_server, browser):
    server = real_server
    page = _page(browser)
    _login(page, server["url"], "admin", own_password("admin"))
    before = int(_metric(page, "报名人数").replace(",", ""))
    world = demo.make_world()
    extra = demo.make_registrations(world, 40, "2023-1", seed=777).assign(准考证号="", 报名状态="正常")
    upload = server["folder"] / "追加报名_2023-1.csv"
    demo.write_csv(extra, upload, "gb18030")
    _open(page, "导入")
    _choose(page, page.locator('[data-testid="stMain"]'), "文件类型", "报名（registrations）")
    page.locator('input[type="file"]').set_input_files(str(upload))
    _settled(page)
    expect(page.get_by_text(f"将新增 {len(extra)} 行")).to_be_visible()
    page.screenshot(path=str(SHOTS / "admin_imports_preview.png"), full_page=True)
    page.get_by_role("button", name="确认导入").click()
    _settled(page)
    # the success message, not the import log below it, whose status column also says 已写入
    expect(page.locator('[data-testid="stAlert"]').filter(has_text="已写入")).to_be_visible()
    _open(page, "总览")
    assert int(_metric(page, "报名人数").replace(",", "")) == before + len(extra)
    page.context.close()


def test_school_user_sees_only_school_pages_and_own_data(server, browser):
    page = _page(browser)
    _login(page, server["url"], "school1", DEMO_PASSWORD["school"])
    nav = page.locator('[data-testid="stSidebarNav"]')
    titles = {s.title for s in navigation.pages_for("school")}
    for spec in navigation.PAGES:
        if spec.title in titles:
            expect(nav.get_by_text(spec.title, exact=True)).to_be_visible()
        else:
            expect(nav.get_by_text(spec.title, exact=True)).to_have_count(0)
    page.screenshot(path=str(SHOTS / "school_home.png"), full_page=True)
    for spec in navigation.pages_for("school"):
        _open(page, spec.title)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        assert not _cut_metrics(page), (spec.title, _cut_metrics(page))
        page.screenshot(path=str(SHOTS / f"school_{spec.url}.png"), full_page=True)
    _open(page, "本校费用")  # the payee, and this school's exact remark to copy
    expect(page.get_by_role("heading", name="汇款信息")).to_be_visible()  # the account is in the table beside it
    expect(page.locator('[data-testid="stCode"]').filter(has_text="1+X考核费用")).to_be_visible()
    # an organiser page's address, opened by a school leader, shows their own page and no organiser data
    page.context.close()
    page = _page(browser)
    page.goto(f"{server['url']}/scores?school=00000")
    page.get_by_label("用户名").fill("school1")
    page.get_by_label("密码").fill(DEMO_PASSWORD["school"])
    page.get_by_role("button", name="登录").click()
    _settled(page)
    expect(page.get_by_role("heading", name="本校成绩").first).to_be_visible()
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="报名人数")).to_have_count(0)
    page.context.close()


def test_a_fresh_server_serves_no_page_before_login(demo_db_path, tmp_path, browser):
    """The page scripts live in app_pages/, not pages/: Streamlit serves a pages/ script by its URL,
    without app.py's login, until some session has run app.py. So, first thing after a server start and
    signed out, every page's address (and its script's) shows the login form and nothing of the page;
    the script's path one level down gets no app at all (its assets are not there)."""
    served = _serve(demo_db_path, tmp_path)
    fresh = next(served)
    try:
        context = _page(browser).context
        # Every address is opened before any has finished its first run: all are "first thing".
        opened = []
        addresses = [(spec, spec.url, True) for spec in navigation.PAGES] \
            + [(spec, f"{spec.stem}.py", True) for spec in navigation.PAGES] \
            + [(navigation.PAGES[0], navigation.PAGES[0].path, False)]
        for spec, address, login in addresses:
            tab = context.new_page() if opened else context.pages[0]
            tab.goto(f"{fresh['url']}/{address}", wait_until="commit")
            opened.append((tab, spec, login))
        for tab, spec, login in opened:
            _settled(tab)
            # the page's address shows the login; a script path (one level deeper) gets no app at all
            if login:
                expect(tab.get_by_label("用户名")).to_be_visible()
                expect(tab.get_by_role("heading", name="1+X 数字营销技术应用 考务看板")).to_be_visible()
            expect(tab.get_by_role("heading", name=spec.title, exact=True)).to_have_count(0)
            for testid in ("stDataFrame", "stMetric", "stSidebarNav", "stPlotlyChart", "stException"):
                expect(tab.locator(f'[data-testid="{testid}"]')).to_have_count(0)
        context.close()
    finally:
        served.close()


def test_wrong_password_is_refused(server, browser):
    page = _page(browser)
    _login(page, server["url"], "staff", "definitely-wrong-1")
    expect(page.get_by_text("用户名或密码错误")).to_be_visible()
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    page.screenshot(path=str(SHOTS / "login_wrong_password.png"), full_page=True)
    page.context.close()


def test_school_files_two_review_requests_after_confirming(server, browser):
    school_items = ("select i.ticket_no, i.reason_type from review_items i join review_requests r using (request_id) "
                    "join users u on u.school_code = r.school_code where u.username = 'school1' "
                    "and r.batch_code = '2023-1' order by i.ticket_no")
    before = _server_rows(server, school_items)
    tickets = [r[0] for r in _server_rows(
        server, "select g.ticket_no from registrations g join users u on u.school_code = g.school_code "
                "where u.username = 'school1' and g.batch_code = '2023-1' and g.status = '正常' "
                "and g.ticket_no is not null and g.ticket_no not in (select ticket_no from review_items) "
                "order by g.ticket_no limit 2")]
    assert len(tickets) == 2
    reasons = dict(zip(tickets, ("理论", "实操")))
    page = _page(browser)
    _login(page, server["url"], "school1", DEMO_PASSWORD["school"])
    _open(page, "成绩复核申请")
    main = page.locator('[data-testid="stMain"]')
    lookup = main.get_by_role("textbox", name="准考证号或姓名")
    for n, ticket in enumerate(tickets, start=1):
        lookup.fill(ticket)
        lookup.press("Enter")
        _settled(page)
        main.get_by_role("button", name="查找").click()
        _settled(page)
        main.get_by_role("button", name="加入待提交列表").click()
        _settled(page)
        expect(main.get_by_role("button", name="移除")).to_have_count(n)
        expect(lookup).to_have_value("")
    for ticket, reason in reasons.items():
        row = (main.locator('[data-testid="stVerticalBlock"]').filter(has_text=ticket)
               .filter(has=page.get_by_role("combobox", name="复核原因")).last)
        _choose(page, row, "复核原因", reason)
    main.get_by_role("button", name="提交复核申请").click()
    _settled(page)
    listed = main.locator('[data-testid="stTable"]')
    for ticket, reason in reasons.items():
        expect(listed.locator("tr").filter(has_text=ticket).filter(has_text=reason)).to_have_count(1)
    expect(listed.locator("tbody tr")).to_have_count(2)
    page.screenshot(path=str(SHOTS / "school_reviews_confirm.png"), full_page=True)
    assert _server_rows(server, school_items) == before  # nothing filed before 确认提交
    main.get_by_role("button", name="确认提交").click()
    _settled(page)
    expect(page.locator('[data-testid="stAlert"]').filter(has_text="2 名考生已列入本校复核申请")).to_be_visible()
    expect(main.get_by_role("button", name="移除")).to_have_count(0)
    after = _server_rows(server, school_items)
    assert sorted(set(after) - set(before)) == sorted(reasons.items()) and len(after) == len(before) + 2
    page.context.close()


def _server_audit(server, page, action: str, after: int, username: str) -> list[tuple]:
    """The audit rows of `action` by `username` after audit id `after`, waiting until there is one: the
    server writes it when it handles the click, a moment after the browser sent it."""
    sql = ("select event_id, target, detail from request_events where action = :a and actor = :u and event_id > :n "
           "order by event_id")
    for _ in range(300):
        found = _server_app_rows(server, sql, {"a": action, "u": username, "n": after})
        if found:
            return found
        page.wait_for_timeout(200)
    pytest.fail(f"no {action} audit row for {username}")


def _status(url: str) -> int:
    """The HTTP status of a GET without cookies or a session."""
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _last_audit_id(server) -> int:
    return _server_app_rows(server, "select coalesce(max(event_id), 0) from request_events")[0][0]


def _unmasked_score_page(server, browser, username="staff"):
    page = _page(browser)
    _login(page, server["url"], username, own_password(username))
    _open(page, "成绩")
    page.get_by_text("显示完整姓名和身份证号", exact=True).click()
    # the run after the click is over once its caption says so and nothing of the masked run is left
    expect(page.get_by_text(re.compile(r"行。显示完整姓名和身份证号。$"))).to_be_visible()
    _settled(page)
    # no ready file in the page: every download is built on click, after the session is checked
    expect(page.locator("a[href*='/media/']")).to_have_count(0)
    return page


def test_a_download_after_the_account_is_disabled_or_its_password_reset_is_refused(real_server, browser):
    server = real_server
    staff = _unmasked_score_page(server, browser)
    mark = _last_audit_id(server)
    with staff.expect_download() as info:  # while the session holds, the file comes, audited
        staff.get_by_role("button", name="下载 .csv").first.click()
    assert info.value.suggested_filename.endswith(".csv")
    assert '"masked": false' in _server_audit(server, staff, "download", mark, "staff")[0][2]
    # the file lives only for the click: once the session has moved on, its URL serves nothing to anyone
    assert "/media/" in info.value.url
    assert _status(info.value.url) == 200  # a client without cookies, while the click's file is fresh
    codes = []
    for _ in range(4):  # Streamlit drops a served file two page runs after it was made
        staff.get_by_text("显示完整姓名和身份证号", exact=True).click()
        _settled(staff)
        codes.append(_status(info.value.url))
    assert codes[-1] == 404, codes

    admin = _page(browser)
    _login(admin, server["url"], "admin", own_password("admin"))
    _open(admin, "用户")
    main = admin.locator('[data-testid="stMain"]')
    main.get_by_role("tab", name="停用 / 启用 / 重置密码").click()
    _choose(admin, main, "账号", "staff")
    main.get_by_role("button", name="停用").click()
    expect(main.get_by_text("账号 staff 已停用")).to_be_visible()  # written before the staff's click
    mark = _last_audit_id(server)
    staff.get_by_role("button", name="下载 .csv").first.click()
    refused = _server_audit(server, staff, "download_refused", mark, "staff")
    assert "账号已停用" in refused[0][2]
    assert not _server_app_rows(server, "select 1 from request_events where action = 'download' and event_id > :n",
                                {"n": mark})

    main.get_by_role("button", name="启用").click()
    expect(main.get_by_text("账号 staff 已启用")).to_be_visible()
    again = _unmasked_score_page(server, browser)
    main.get_by_label("新密码").fill("Reset-by-admin-7")
    main.get_by_role("button", name="重置密码").click()
    expect(main.get_by_text("账号 staff 的密码已重置")).to_be_visible()
    mark = _last_audit_id(server)
    again.get_by_role("button", name="下载 .csv").first.click()
    assert "账号密码已重置" in _server_audit(server, again, "download_refused", mark, "staff")[0][2]
    again.reload()  # a reload is a new session, and the old password no longer signs in
    _settled(again)
    again.get_by_label("用户名").fill("staff")
    again.get_by_label("密码").fill(own_password("staff"))
    again.get_by_role("button", name="登录").click()
    _settled(again)
    expect(again.get_by_text("用户名或密码错误")).to_be_visible()
    for p in (staff, admin, again):
        p.context.close()


def test_a_download_after_the_idle_timeout_is_refused(brief_server, browser):
    server = brief_server
    page = _page(browser)
    _login(page, server["url"], "staff", DEMO_PASSWORD["staff"])
    _open(page, "成绩")
    mark = _last_audit_id(server)
    page.wait_for_timeout(10_000)  # longer than the 9 idle seconds this server allows
    page.get_by_role("button", name="下载 .csv").first.click()
    assert "会话已超时" in _server_audit(server, page, "download_refused", mark, "staff")[0][2]
    assert not _server_app_rows(server, "select 1 from request_events where action = 'download' and event_id > :n",
                                {"n": mark})
    page.reload()  # the browser's web session has expired too: a reload asks for the login
    _settled(page)
    expect(page.get_by_label("密码")).to_be_visible()
    page.context.close()


def test_a_session_survives_a_reload_and_a_new_tab_until_logout(server, browser):
    page = _page(browser)
    _login(page, server["url"], "staff", DEMO_PASSWORD["staff"])
    _open(page, "成绩")
    cookie = next(c for c in page.context.cookies() if c["name"] == "examdash_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and len(cookie["value"]) == 43
    page.reload()
    _settled(page)
    expect(page.get_by_role("heading", name="成绩").first).to_be_visible()
    expect(page.get_by_label("密码")).to_have_count(0)
    # a second tab on a deep link with filters opens signed in, on that page with those filters
    tab = page.context.new_page()
    tab.set_default_timeout(TIMEOUT)
    tab.goto(f"{server['url']}/attendance?batch=2023-2&level=中级")
    _settled(tab)
    expect(tab.get_by_role("heading", name="考勤").first).to_be_visible()
    expect(tab.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="级别")).to_have_value("中级")
    # the store knows the token only by its hash
    mine = hashlib.sha256(cookie["value"].encode()).hexdigest()
    assert _server_app_rows(server, "select username from web_sessions where token_hash = :h and revoked_at is null",
                        {"h": mine}) == [("staff",)]
    assert not _server_app_rows(server, "select 1 from web_sessions where token_hash = :t", {"t": cookie["value"]})
    # logout in one tab ends the other tab's session at its next page run, and a reload stays signed out
    page.get_by_role("button", name="退出登录").click()
    _settled(page)
    expect(page.get_by_role("link", name="前往登录页")).to_be_visible()  # the login is the sign-in page's
    _choose(tab, tab.locator('[data-testid="stSidebar"]'), "级别", "初级")
    expect(tab.get_by_role("link", name="前往登录页")).to_be_visible()
    expect(tab.get_by_text("已退出登录")).to_be_visible()
    for p in (page, tab):
        p.reload()
        _settled(p)
        expect(p.get_by_label("密码")).to_be_visible()
    assert not _server_app_rows(server, "select 1 from web_sessions where token_hash = :h and revoked_at is null",
                                {"h": mine})
    # another browser (no cookie of this one) was never signed in
    other = _page(browser)
    other.goto(f"{server['url']}/attendance")
    _settled(other)
    expect(other.get_by_label("密码")).to_be_visible()
    page.context.close()
    other.context.close()


def test_a_hostile_upload_fails_alone(real_server, browser, tmp_path):
    from helpers import SHEET_HEAD, SHEET_TAIL, workbook

    server = real_server
    staff = _page(browser)  # another session: a school leader (the staff account's password changes above)
    _login(staff, server["url"], "school2", own_password("school2"))
    admin = _page(browser)
    _login(admin, server["url"], "admin", own_password("admin"))
    _open(admin, "导入")
    _choose(admin, admin.locator('[data-testid="stMain"]'), "文件类型", "报名（registrations）")
    bomb = workbook(tmp_path / "炸弹.xlsx", SHEET_HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>'
                    + b"A" * (64 << 20) + b"</t></is></c></row>" + SHEET_TAIL)
    bait = workbook(tmp_path / "诱饵.xlsx", SHEET_HEAD + b"<c " * 200_000)
    admin.locator('input[type="file"]').set_input_files([str(bomb), str(bait)])
    _open(staff, "本校费用")  # another session's page answers meanwhile
    expect(staff.locator('[data-testid="stMetric"]').first).to_be_visible()
    _settled(admin)
    alerts = admin.locator('[data-testid="stAlert"]')
    expect(alerts.filter(has_text="炸弹.xlsx（报名）").filter(has_text="压缩炸弹")).to_be_visible()
    expect(alerts.filter(has_text="诱饵.xlsx（报名）").filter(has_text="未写入任何数据")).to_be_visible()
    expect(admin.locator('[data-testid="stException"]')).to_have_count(0)
    admin.screenshot(path=str(SHOTS / "admin_imports_hostile.png"), full_page=True)
    _open(staff, "本校成绩")
    expect(staff.locator('[data-testid="stMetric"]').first).to_be_visible()
    for p in (staff, admin):
        p.context.close()


def test_a_candidate_on_a_phone_looks_up_their_result_through_the_plain_page(server, browser):
    """/lookup is a plain HTTP page (no Streamlit session): a phone-sized browser follows the sign-in
    page's link, types the ticket and the full ID number (a lower-case x is fine) and sees the result."""
    ticket, id_no, name, total = _server_rows(
        server, "select ticket_no, id_no, name, total::double from results where batch_code = '2023-1' and passed "
                "and ticket_no is not null order by ticket_no desc limit 1")[0]
    page = _page(browser)
    page.goto(server["url"])
    _settled(page)
    link = page.get_by_role("link", name="考生成绩查询")
    assert link.get_attribute("href").endswith("/lookup")  # the sign-in page links to the plain page
    page.context.close()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", java_script_enabled=False)
    phone = context.new_page()
    phone.goto(server["url"] + "/lookup")
    expect(phone.get_by_role("heading", name="考生成绩查询")).to_be_visible()
    expect(phone.get_by_text("400-081-0003")).to_be_visible()

    def ask(t: str, number: str) -> None:
        phone.get_by_label("准考证号").fill(t)
        phone.get_by_label("身份证号（18 位）").fill(number)
        phone.get_by_role("button", name="查询").click()
        phone.wait_for_load_state()

    ask(ticket, id_no.lower())
    expect(phone.get_by_role("heading", name="查询结果")).to_be_visible()
    expect(phone.get_by_text(f"{total:.1f}", exact=True).first).to_be_visible()
    expect(phone.get_by_text("姓名已部分隐去")).to_be_visible()
    assert name not in phone.content()  # the name is masked
    box = phone.get_by_role("button", name="查询").bounding_box()
    assert box is not None and box["width"] <= 390  # the form fits the phone's width
    phone.screenshot(path=str(SHOTS / "lookup_phone.png"), full_page=True)
    ask(ticket, id_no[:-1] + ("0" if id_no[-1] != "0" else "1"))
    expect(phone.get_by_text("未查到成绩")).to_be_visible()
    context.close()


def test_a_site_account_sees_its_site_only(server, browser):
    page = _page(browser)
    _login(page, server["url"], "site1", DEMO_PASSWORD["site"])
    expect(page.get_by_role("heading", name="本考点", exact=False).first).to_be_visible()
    nav = page.locator('[data-testid="stSidebarNav"]')
    for spec in navigation.PAGES:
        expect(nav.get_by_text(spec.title, exact=True)).to_have_count(1 if "site" in spec.roles else 0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.get_by_text("借考").first).to_be_visible()
    assert not _cut_metrics(page), _cut_metrics(page)
    page.screenshot(path=str(SHOTS / "site_home.png"), full_page=True)
    _open(page, "考场编排")  # the site arranges its rooms and downloads the sign-in sheets
    page.get_by_role("button", name="编排考场").click()
    _settled(page)
    expect(page.get_by_text("已编排")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("button", name="签到表 PDF").click()
    assert info.value.suggested_filename.endswith(".pdf")
    assert Path(info.value.path()).read_bytes()[:5] == b"%PDF-"
    assert not _cut_metrics(page)
    page.screenshot(path=str(SHOTS / "site_rooms.png"), full_page=True)
    page.goto(f"{server['url']}/school_fees")  # a school's page by its address: the site's own page instead
    _settled(page)
    expect(page.get_by_role("heading", name="本校费用", exact=False)).to_have_count(0)
    page.context.close()
