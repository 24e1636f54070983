"""AppTest of the two review pages: 复核 (staff) and 成绩复核申请 (school leaders).

Each test runs the page script on its own private copy of the demo database (the pages write), with
the identity seeded in session state the way web.sign_in stores it and "today" pinned by EXAMDASH_TODAY.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import streamlit as st
from conftest import rows, scalar
from streamlit.testing.v1 import AppTest

from examdash import auth, db, reviews, web

ROOT = Path(__file__).resolve().parent.parent
BATCH = "2023-1"
STAFF_PAGE, SCHOOL_PAGE = "app_pages/reviews.py", "app_pages/school_reviews.py"


@pytest.fixture
def app_db(fresh_db_path, monkeypatch):
    monkeypatch.setenv("EXAMDASH_DB", str(fresh_db_path))
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    con = db.connect(fresh_db_path)
    yield con
    con.close()


def run_as(con, page: str, username: str, batch: str | None = BATCH) -> AppTest:
    """Run a page as an account; then pick the batch in the shared sidebar filter (outside a publicity
    week the filter defaults to the next exam's batch)."""
    at = AppTest.from_file(str(ROOT / page), default_timeout=30)
    at.session_state[web.USER_KEY] = auth.reload_user(con, username)
    at.session_state[web.SEEN_KEY] = time.monotonic()
    at.run()
    if batch and at.selectbox and any(s.key == "filters_batch" for s in at.selectbox):
        if at.selectbox(key="filters_batch").value != batch:
            at.selectbox(key="filters_batch").set_value(batch).run()
    return at


def table(at: AppTest, column: str):
    """The one table on the page that has this column (st.dataframe carries no key in AppTest)."""
    hits = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(hits) == 1, f"{len(hits)} tables with column {column!r}"
    return hits[0]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def own_tickets(con, school_code: str) -> set[str]:
    return {r[0] for r in rows(con, "select ticket_no from registrations where batch_code = $b and school_code = $s "
                                    "and status = '正常' and ticket_no is not null", {"b": BATCH, "s": school_code})}


@pytest.mark.parametrize("page, username", [(STAFF_PAGE, "school1"), (SCHOOL_PAGE, "staff"), (SCHOOL_PAGE, "admin")])
def test_pages_refuse_the_wrong_role_when_run_directly(app_db, page, username):
    at = run_as(app_db, page, username)
    assert not at.exception
    assert "无权访问此页面" in texts(at.error)
    assert not at.title and not at.dataframe and not at.button


def test_pages_ask_for_login_without_identity(app_db):
    for page in (STAFF_PAGE, SCHOOL_PAGE):
        at = AppTest.from_file(str(ROOT / page), default_timeout=30).run()
        assert "请先登录" in texts(at.warning) and not at.dataframe


def test_school_files_a_request_inside_the_window(app_db, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    leader = auth.reload_user(app_db, "school1")
    at = run_as(app_db, SCHOOL_PAGE, "school1")
    assert not at.exception
    assert leader.school_name in at.title[0].value
    assert "今天可以提交复核申请" in texts(at.info) and "剩余 5 天" in texts(at.info)
    box = at.multiselect(key="school_reviews_tickets")
    assert not box.disabled
    offered = set(box.options)
    mine = own_tickets(app_db, leader.school_code)
    already = {r[0] for r in rows(app_db, "select ticket_no from review_items")}
    assert offered and {o.split(" ")[0] for o in offered} == mine - already  # only the school's own candidates
    ticket = sorted(mine - already)[0]
    box.set_value([ticket])
    at.selectbox(key="school_reviews_reason").set_value("实操")
    at.text_area(key="school_reviews_text").set_value("实操第2题平台未保存")
    at.button(key="school_reviews_submit").click().run()
    assert not at.exception
    assert "已提交" in texts(at.success)
    got = rows(app_db, "select r.school_code, i.reason_type, i.reason_text, i.status, r.filed_by from review_items i "
                       "join review_requests r using (request_id) where i.ticket_no = $t", {"t": ticket})
    assert got == [(leader.school_code, "实操", "实操第2题平台未保存", "已提交", "school1")]
    items = table(at, "结论说明")
    assert ticket in set(items["准考证号"]) and set(items["准考证号"]) <= mine
    assert ticket not in {o.split(" ")[0] for o in at.multiselect(key="school_reviews_tickets").options}


@pytest.mark.parametrize("day, fragment", [("2023-06-11", "还有 1 天"), ("2023-06-19", "已于 2023-06-18 结束")])
def test_school_form_is_closed_outside_the_window(app_db, monkeypatch, day, fragment):
    monkeypatch.setenv("EXAMDASH_TODAY", day)
    at = run_as(app_db, SCHOOL_PAGE, "school1")
    assert not at.exception
    assert fragment in texts(at.warning) and "2023-06-12 至 2023-06-18" in texts(at.warning)
    assert at.button(key="school_reviews_submit").disabled
    assert at.multiselect(key="school_reviews_tickets").disabled


def test_staff_queue_and_correction(app_db, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    leader, staff = auth.reload_user(app_db, "school1"), auth.reload_user(app_db, "staff")
    failing = rows(app_db, "select ticket_no, level, theory, practical from results where batch_code = $b and school_code = $s "
                           "and attendance_status = '已签到' and (theory < 60 or practical < 60) "
                           "and not list_contains($x, ticket_no) order by ticket_no limit 1",
                   {"b": BATCH, "s": leader.school_code,
                    "x": [r[0] for r in rows(app_db, "select ticket_no from review_items")]})
    assert failing, "school1 needs a failing candidate"
    ticket, level, theory, practical = failing[0]
    reviews.file_request(app_db, leader, BATCH, [(ticket, "理论", "理论成绩偏低")])
    item = scalar(app_db, "select item_id from review_items where ticket_no = $t", {"t": ticket})
    open_n = scalar(app_db, "select count(*) from review_items i join review_requests r using (request_id) "
                            "where r.batch_code = $b and i.status in ('已提交', '复核中')", {"b": BATCH})
    passed_before = scalar(app_db, "select count_if(passed) from results where batch_code = $b and school_code = $s "
                                   "and level = $l", {"b": BATCH, "s": leader.school_code, "l": level})

    at = run_as(app_db, STAFF_PAGE, "staff")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["待处理复核项"] == str(open_n)
    assert metrics["公示期剩余"] == "5 天" and metrics["距颁发证书"] == "5 天"
    queue = table(at, "已等待（天）")
    row = queue[queue["准考证号"] == ticket].iloc[0]
    assert (row["复核原因"], row["状态"], row["院校代码"], row["已等待（天）"]) == ("理论", "已提交", leader.school_code, 0)

    at.selectbox(key="reviews_item").set_value(item)
    at.radio(key="reviews_action").set_value("更正").run()
    at.number_input(key="reviews_theory").set_value(66.0)
    at.number_input(key="reviews_practical").set_value(max(float(practical), 60.0))
    at.text_area(key="reviews_note").set_value("理论第3题漏判")
    at.button(key="reviews_submit").click().run()
    assert not at.exception
    assert "新增成绩版本 2" in texts(at.success)
    assert scalar(app_db, "select status from review_items where item_id = $i", {"i": item}) == "更正"
    versions = rows(app_db, "select version, theory, practical, source, created_by from score_versions "
                            "where batch_code = $b and ticket_no = $t order by version", {"b": BATCH, "t": ticket})
    assert [(v[0], float(v[1]), float(v[2]), v[3], v[4]) for v in versions] == [
        (1, float(theory), float(practical), "import", "demo"), (2, 66.0, max(float(practical), 60.0), "review", "staff")]
    assert scalar(app_db, "select count_if(passed) from results where batch_code = $b and school_code = $s and level = $l",
                  {"b": BATCH, "s": leader.school_code, "l": level}) == passed_before + 1
    assert {m.label: m.value for m in at.metric}["待处理复核项"] == str(open_n - 1)
    closed = table(at, "结论")
    assert closed[closed["准考证号"] == ticket]["结论"].tolist() == ["更正"]

    at.selectbox(key="reviews_history_ticket").set_value(ticket).run()
    hist = table(at, "版本")
    assert hist["版本"].tolist() == [2, 1] and hist["来源"].tolist() == ["复核更正", "成绩导入"]

    # A second decision on the same item (say from a stale tab) is refused with the reason shown.
    with pytest.raises(reviews.ReviewError, match="最终结论"):
        reviews.decide(app_db, staff, item, "维持", "再议")
    at.run()
    refusals = table(at, "拒绝原因")
    assert refusals["拒绝原因"].str.contains("最终结论").any()


def test_signoffs_after_the_window_from_both_pages(app_db, monkeypatch):
    leader, staff = auth.reload_user(app_db, "school1"), auth.reload_user(app_db, "staff")
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-18")
    for (item,) in rows(app_db, "select i.item_id from review_items i join review_requests r using (request_id) "
                                "where r.school_code = $s and i.status in ('已提交', '复核中')", {"s": leader.school_code}):
        reviews.decide(app_db, staff, item, "维持", "无误")
    at = run_as(app_db, STAFF_PAGE, "staff")
    assert "结束后方可签发" in texts(at.info)
    school_at = run_as(app_db, SCHOOL_PAGE, "school1")
    assert school_at.button(key="school_reviews_sign").disabled

    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-19")
    at = run_as(app_db, STAFF_PAGE, "staff")
    assert not at.exception
    assert f"{leader.school_code} {leader.school_name}" in at.multiselect(key="reviews_sign_schools").options
    at.multiselect(key="reviews_sign_schools").set_value([leader.school_code])
    at.button(key="reviews_sign").click().run()
    assert "为 1 所院校签发" in texts(at.success)

    school_at = run_as(app_db, SCHOOL_PAGE, "school1")
    assert not school_at.exception and not school_at.button(key="school_reviews_sign").disabled
    school_at.button(key="school_reviews_sign").click().run()
    assert "本校已签发" in texts(school_at.success)
    assert sorted(rows(app_db, "select party, signed_by from signoffs where school_code = $s",
                       {"s": leader.school_code})) == [("org", "staff"), ("school", "school1")]
    assert {m.label: m.value for m in school_at.metric}["本校"].startswith("已签发")
    assert "可颁发证书" in texts(school_at.caption)
    certs = table(run_as(app_db, STAFF_PAGE, "staff"), "可颁发")
    assert certs[certs["院校代码"] == leader.school_code]["可颁发"].tolist() == ["是"]
    assert rows(app_db, "select count(*) from audit_log where action = 'signoff'") == [(2,)]
