"""AppTest of the two review pages: 复核 (staff) and 成绩复核申请 (school leaders).

Each test runs the page script on its own private copy of the demo database (the pages write), with
the identity seeded in session state the way web.sign_in stores it and "today" pinned by EXAMDASH_TODAY.
"""

from __future__ import annotations

import pytest
from helpers import BATCH, ROOT, keys_of, page_as, rows, scalar, table, texts
from streamlit.testing.v1 import AppTest

from examdash.domain import auth, reviews

STAFF_PAGE, SCHOOL_PAGE = "app_pages/reviews.py", "app_pages/school_reviews.py"




@pytest.mark.parametrize("page, username", [(STAFF_PAGE, "school1"), (SCHOOL_PAGE, "staff"), (SCHOOL_PAGE, "admin")])
def test_pages_refuse_the_wrong_role_when_run_directly(private_app, page, username):
    at = page_as(page, username, private_app, BATCH)
    assert not at.exception
    assert "无权访问此页面" in texts(at.error)
    assert not at.title and not at.dataframe and not at.button


def test_pages_ask_for_login_without_identity(private_app):
    for page in (STAFF_PAGE, SCHOOL_PAGE):
        at = AppTest.from_file(str(ROOT / page), default_timeout=30).run()
        assert "请先登录" in texts(at.warning) and not at.dataframe


def test_staff_queue_and_correction(private_app, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    leader, staff = auth.reload_user(private_app, "school1"), auth.reload_user(private_app, "staff")
    failing = rows(private_app, "select ticket_no, level, theory, practical from results where batch_code = $b and school_code = $s "
                           "and attendance_status = '已签到' and (theory < 60 or practical < 60) "
                           "and not list_contains($x, ticket_no) order by ticket_no limit 1",
                   {"b": BATCH, "s": leader.school_code,
                    "x": [r[0] for r in rows(private_app, "select ticket_no from review_items")]})
    assert failing, "school1 needs a failing candidate"
    ticket, level, theory, practical = failing[0]
    reviews.file_request(private_app, leader, BATCH, [(ticket, "理论", "理论成绩偏低")])
    item = scalar(private_app, "select item_id from review_items where ticket_no = $t", {"t": ticket})
    open_n = scalar(private_app, "select count(*) from review_items i join review_requests r using (request_id) "
                            "where r.batch_code = $b and i.status in ('已提交', '复核中')", {"b": BATCH})
    passed_before = scalar(private_app, "select count_if(passed) from results where batch_code = $b and school_code = $s "
                                   "and level = $l", {"b": BATCH, "s": leader.school_code, "l": level})

    at = page_as(STAFF_PAGE, "staff", private_app, BATCH)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["待处理复核项"] == str(open_n)
    assert metrics["公示期剩余"] == "5 天" and metrics["距颁发证书"] == "5 天"
    queue = table(at, "已等待（天）")
    row = queue[queue["准考证号"] == ticket].iloc[0]
    assert (row["复核原因"], row["状态"], row["院校代码"], row["已等待（天）"]) == ("理论", "已提交", leader.school_code, 0)

    at.selectbox(key="reviews_item").set_value(item).run()
    at.radio(key=f"reviews_action_{item}").set_value("更正").run()
    at.number_input(key=f"reviews_theory_{item}").set_value(66.0)
    at.number_input(key=f"reviews_practical_{item}").set_value(max(float(practical), 60.0))
    at.text_area(key=f"reviews_note_{item}").set_value("理论第3题漏判")
    at.button(key=f"reviews_submit_{item}").click().run()
    assert not at.exception
    assert "新增成绩版本 2" in texts(at.success)
    assert scalar(private_app, "select status from review_items where item_id = $i", {"i": item}) == "更正"
    versions = rows(private_app, "select version, theory, practical, source, created_by from score_versions "
                            "where batch_code = $b and ticket_no = $t order by version", {"b": BATCH, "t": ticket})
    assert [(v[0], float(v[1]), float(v[2]), v[3], v[4]) for v in versions] == [
        (1, float(theory), float(practical), "import", "demo"), (2, 66.0, max(float(practical), 60.0), "review", "staff")]
    assert scalar(private_app, "select count_if(passed) from results where batch_code = $b and school_code = $s and level = $l",
                  {"b": BATCH, "s": leader.school_code, "l": level}) == passed_before + 1
    assert {m.label: m.value for m in at.metric}["待处理复核项"] == str(open_n - 1)
    closed = table(at, "结论")
    assert closed[closed["准考证号"] == ticket]["结论"].tolist() == ["更正"]

    at.selectbox(key="reviews_history_ticket").set_value(ticket).run()
    hist = table(at, "版本")
    assert hist["版本"].tolist() == [2, 1] and hist["来源"].tolist() == ["复核更正", "成绩导入"]

    # A second decision on the same item (say from a stale tab) is refused with the reason shown.
    with pytest.raises(reviews.ReviewError, match="最终结论"):
        reviews.decide(private_app, staff, item, "维持", "再议")
    at.run()
    refusals = table(at, "拒绝原因")
    assert refusals["拒绝原因"].str.contains("最终结论").any()


def test_signoffs_after_the_window_from_both_pages(private_app, monkeypatch):
    leader, staff = auth.reload_user(private_app, "school1"), auth.reload_user(private_app, "staff")
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-18")
    for (item,) in rows(private_app, "select i.item_id from review_items i join review_requests r using (request_id) "
                                "where r.school_code = $s and i.status in ('已提交', '复核中')", {"s": leader.school_code}):
        reviews.decide(private_app, staff, item, "维持", "无误")
    at = page_as(STAFF_PAGE, "staff", private_app, BATCH)
    assert "结束后方可签发" in texts(at.info)
    school_at = page_as(SCHOOL_PAGE, "school1", private_app, BATCH)
    assert school_at.button(key="school_reviews_sign").disabled

    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-19")
    at = page_as(STAFF_PAGE, "staff", private_app, BATCH)
    assert not at.exception
    assert f"{leader.school_code} {leader.school_name}" in at.multiselect(key="reviews_sign_schools").options
    at.multiselect(key="reviews_sign_schools").set_value([leader.school_code])
    at.button(key="reviews_sign").click().run()
    assert "为 1 所院校签发" in texts(at.success)

    school_at = page_as(SCHOOL_PAGE, "school1", private_app, BATCH)
    assert not school_at.exception and not school_at.button(key="school_reviews_sign").disabled
    school_at.button(key="school_reviews_sign").click().run()
    assert "本校已签发" in texts(school_at.success)
    assert sorted(rows(private_app, "select party, signed_by from signoffs where school_code = $s",
                       {"s": leader.school_code})) == [("org", "staff"), ("school", "school1")]
    assert {m.label: m.value for m in school_at.metric}["本校"].startswith("已签发")
    assert "可颁发证书" in texts(school_at.caption)
    certs = table(page_as(STAFF_PAGE, "staff", private_app, BATCH), "可颁发")
    assert certs[certs["院校代码"] == leader.school_code]["可颁发"].tolist() == ["是"]
    assert rows(private_app, "select count(*) from audit_log where action = 'signoff'") == [(2,)]


def writes(con) -> tuple[int, int, int]:
    """What a decision or a filing writes: item events, score versions, review items."""
    return (scalar(con, "select count(*) from review_item_events"), scalar(con, "select count(*) from score_versions"),
            scalar(con, "select count(*) from review_items"))


def other_scores(con, item: int) -> tuple[float, float]:
    """Corrected scores that differ from the item's current ones (a correction to the same scores is refused)."""
    theory = scalar(con, "select s.theory from review_items i join review_requests r using (request_id) "
                         "join results s on s.batch_code = r.batch_code and s.ticket_no = i.ticket_no "
                         "where i.item_id = $i", {"i": item})
    return (66.0 if theory is None or float(theory) != 66.0 else 67.0), 70.0


def test_staff_form_starts_empty_for_the_next_item(private_app, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    at = page_as(STAFF_PAGE, "staff", private_app, BATCH)
    first = at.selectbox(key="reviews_item").value
    assert len(at.selectbox(key="reviews_item").options) >= 2, "the demo needs two open items"
    assert at.radio(key=f"reviews_action_{first}").value is None  # nothing pre-selected
    at.radio(key=f"reviews_action_{first}").set_value("更正").run()
    theory, practical = other_scores(private_app, first)
    assert at.number_input(key=f"reviews_theory_{first}").value is None  # not pre-filled with the current scores
    assert at.number_input(key=f"reviews_practical_{first}").value is None
    assert "当前成绩" in texts(at.caption)
    at.number_input(key=f"reviews_theory_{first}").set_value(theory)
    at.number_input(key=f"reviews_practical_{first}").set_value(practical)
    at.text_area(key=f"reviews_note_{first}").set_value("复核后更正")
    at.button(key=f"reviews_submit_{first}").click().run()
    assert not at.exception and "已更正" in texts(at.success)
    assert scalar(private_app, "select status from review_items where item_id = $i", {"i": first}) == "更正"
    assert not [k for k in at.session_state if str(k).startswith("reviews_") and str(k).endswith(f"_{first}")]

    nxt = at.selectbox(key="reviews_item").value
    assert nxt != first and not [o for o in at.selectbox(key="reviews_item").options if o.startswith(f"#{first} ")]
    assert at.radio(key=f"reviews_action_{nxt}").value is None
    assert at.text_area(key=f"reviews_note_{nxt}").value == ""
    assert not at.number_input  # no score inputs until 更正 is chosen
    before = writes(private_app)
    at.button(key=f"reviews_submit_{nxt}").click().run()  # the second click, with nothing filled in
    assert not at.exception and "请选择处理方式" in texts(at.error)
    assert writes(private_app) == before
    assert scalar(private_app, "select status from review_items where item_id = $i", {"i": nxt}) in reviews.OPEN

    at.radio(key=f"reviews_action_{nxt}").set_value("更正").run()
    assert at.number_input(key=f"reviews_theory_{nxt}").value is None
    assert at.number_input(key=f"reviews_practical_{nxt}").value is None
    at.text_area(key=f"reviews_note_{nxt}").set_value("只写了说明")
    at.button(key=f"reviews_submit_{nxt}").click().run()
    assert "须填写更正后的理论成绩和实操成绩" in texts(at.error)
    assert writes(private_app) == before
    # a refused submit keeps what was typed, to be fixed
    assert at.radio(key=f"reviews_action_{nxt}").value == "更正"
    assert at.text_area(key=f"reviews_note_{nxt}").value == "只写了说明"


def review_items_open(con) -> list[int]:
    return [r[0] for r in rows(con, "select i.item_id from review_items i join review_requests r using (request_id) "
                                    "where r.batch_code = $b and i.status in ('已提交', '复核中') order by i.item_id",
                               {"b": BATCH})]


def test_staff_form_is_bound_to_the_item_shown(private_app, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    at = page_as(STAFF_PAGE, "staff", private_app, BATCH)
    a = at.selectbox(key="reviews_item").value
    b = next(i for i in review_items_open(private_app) if i != a)
    theory, practical = other_scores(private_app, a)
    at.radio(key=f"reviews_action_{a}").set_value("更正").run()
    at.number_input(key=f"reviews_theory_{a}").set_value(theory)
    at.number_input(key=f"reviews_practical_{a}").set_value(practical)
    at.text_area(key=f"reviews_note_{a}").set_value("这是A的说明")
    at.selectbox(key="reviews_item").set_value(b).run()
    assert at.radio(key=f"reviews_action_{b}").value is None
    assert at.text_area(key=f"reviews_note_{b}").value == ""
    assert not at.number_input
    assert f"reviews_submit_{a}" not in keys_of(at.button)  # A's form is gone, and with it A's submit
    a_before = rows(private_app, "select status, decided_by from review_items where item_id = $i", {"i": a})
    def events_of(item: int) -> int:
        return scalar(private_app, "select count(*) from review_item_events where item_id = $i", {"i": item})

    events_a, events_b, versions = events_of(a), events_of(b), writes(private_app)[1]
    at.radio(key=f"reviews_action_{b}").set_value("维持").run()
    at.text_area(key=f"reviews_note_{b}").set_value("核对无误")
    at.button(key=f"reviews_submit_{b}").click().run()
    assert not at.exception and f"复核项 #{b} 已标记为「维持」" in texts(at.success)
    assert rows(private_app, "select status, decision_note from review_items where item_id = $i", {"i": b}) == [
        ("维持", "核对无误")]
    assert rows(private_app, "select status, decided_by from review_items where item_id = $i", {"i": a}) == a_before
    assert (events_of(a), events_of(b), writes(private_app)[1]) == (events_a, events_b + 1, versions)


def test_staff_start_review_keeps_the_item_with_an_empty_form(private_app, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    at = page_as(STAFF_PAGE, "staff", private_app, BATCH)
    item = scalar(private_app, "select min(i.item_id) from review_items i join review_requests r using (request_id) "
                          "where r.batch_code = $b and i.status = '已提交'", {"b": BATCH})
    at.selectbox(key="reviews_item").set_value(item).run()
    at.radio(key=f"reviews_action_{item}").set_value("复核中").run()
    at.text_area(key=f"reviews_note_{item}").set_value("已调取答卷")
    at.button(key=f"reviews_submit_{item}").click().run()
    assert not at.exception and "已标记为「复核中」" in texts(at.success)
    assert at.selectbox(key="reviews_item").value == item  # still open, still shown
    assert "当前状态：复核中" in texts(at.caption)
    assert at.radio(key=f"reviews_action_{item}").value is None
    assert at.text_area(key=f"reviews_note_{item}").value == ""


def test_staff_submit_for_an_item_decided_meanwhile_writes_nothing(private_app, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    at = page_as(STAFF_PAGE, "staff", private_app, BATCH)
    a = at.selectbox(key="reviews_item").value
    at.radio(key=f"reviews_action_{a}").set_value("驳回").run()
    at.text_area(key=f"reviews_note_{a}").set_value("不予复核")
    reviews.decide(private_app, auth.reload_user(private_app, "admin"), a, "维持", "另一位考务人员已处理")  # from another tab
    before = writes(private_app)
    at.button(key=f"reviews_submit_{a}").click().run()
    assert not at.exception and "所选复核项已不在待处理队列中" in texts(at.warning)
    assert writes(private_app) == before
    assert rows(private_app, "select status, decided_by from review_items where item_id = $i", {"i": a}) == [("维持", "admin")]
    shown = at.selectbox(key="reviews_item").value
    assert shown != a and at.radio(key=f"reviews_action_{shown}").value is None
