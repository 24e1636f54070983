"""AppTest of the two review pages: 复核 (staff) and 成绩复核申请 (school leaders).

Each test runs the page script on its own private copy of the demo database (the pages write), with
the identity seeded in session state the way web.sign_in stores it and "today" pinned by EXAMDASH_TODAY.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import rows, scalar
from examdash import web
from examdash.domain import auth, reviews

ROOT = Path(__file__).resolve().parent.parent
BATCH = "2023-1"
STAFF_PAGE, SCHOOL_PAGE = "app_pages/reviews.py", "app_pages/school_reviews.py"


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


def filed_tickets(con) -> set[str]:
    return {r[0] for r in rows(con, "select ticket_no from review_items")}


def keys_of(elements) -> set[str]:
    return {e.key for e in elements}


def find(at: AppTest, text: str) -> AppTest:
    """Type into the school's lookup box and press 查找."""
    at.text_input(key="school_reviews_query").input(text)
    return at.button(key="school_reviews_find").click().run()


def pending(at: AppTest) -> list[str]:
    return list(at.session_state[f"school_reviews_pending_{BATCH}"])


def add(at: AppTest, ticket: str, reason: str, text: str = "") -> AppTest:
    """Look a candidate up by ticket, add it to the pending list and give it its own reason and note."""
    find(at, ticket)
    at.button(key="school_reviews_add").click().run()
    at.selectbox(key=f"school_reviews_reason_{ticket}").set_value(reason)
    at.text_input(key=f"school_reviews_text_{ticket}").input(text)
    return at.run()


@pytest.mark.parametrize("page, username", [(STAFF_PAGE, "school1"), (SCHOOL_PAGE, "staff"), (SCHOOL_PAGE, "admin")])
def test_pages_refuse_the_wrong_role_when_run_directly(private_app, page, username):
    at = run_as(private_app, page, username)
    assert not at.exception
    assert "无权访问此页面" in texts(at.error)
    assert not at.title and not at.dataframe and not at.button


def test_pages_ask_for_login_without_identity(private_app):
    for page in (STAFF_PAGE, SCHOOL_PAGE):
        at = AppTest.from_file(str(ROOT / page), default_timeout=30).run()
        assert "请先登录" in texts(at.warning) and not at.dataframe


def test_school_files_a_request_inside_the_window(private_app, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    leader = auth.reload_user(private_app, "school1")
    at = run_as(private_app, SCHOOL_PAGE, "school1")
    assert not at.exception
    assert leader.school_name in at.title[0].value
    assert "今天可以提交复核申请" in texts(at.info) and "剩余 5 天" in texts(at.info)
    assert not at.text_input(key="school_reviews_query").disabled and not at.button(key="school_reviews_find").disabled
    assert not at.multiselect  # no fuzzy multi-pick any more
    mine = own_tickets(private_app, leader.school_code)
    already = filed_tickets(private_app)
    # only the school's own candidates can be found: another school's ticket is unknown here
    other = scalar(private_app, "select min(ticket_no) from registrations where batch_code = $b and school_code <> $s "
                           "and status = '正常' and ticket_no is not null", {"b": BATCH, "s": leader.school_code})
    find(at, other)
    assert "未找到准考证号或姓名完全一致的本校考生" in texts(at.warning)
    assert "school_reviews_add" not in keys_of(at.button)
    ticket = sorted(mine - already)[0]
    add(at, ticket, "实操", "实操第2题平台未保存")
    at.button(key="school_reviews_submit").click().run()
    at.button(key="school_reviews_confirm_submit").click().run()
    assert not at.exception
    assert "已提交" in texts(at.success)
    got = rows(private_app, "select r.school_code, i.reason_type, i.reason_text, i.status, r.filed_by from review_items i "
                       "join review_requests r using (request_id) where i.ticket_no = $t", {"t": ticket})
    assert got == [(leader.school_code, "实操", "实操第2题平台未保存", "已提交", "school1")]
    items = table(at, "结论说明")
    assert ticket in set(items["准考证号"]) and set(items["准考证号"]) <= mine
    find(at, ticket)  # filed now: found, but cannot be added again
    assert "已在本校复核申请中" in texts(at.warning) and "school_reviews_add" not in keys_of(at.button)


@pytest.mark.parametrize("day, fragment", [("2023-06-11", "还有 1 天"), ("2023-06-19", "已于 2023-06-18 结束")])
def test_school_form_is_closed_outside_the_window(private_app, monkeypatch, day, fragment):
    monkeypatch.setenv("EXAMDASH_TODAY", day)
    at = run_as(private_app, SCHOOL_PAGE, "school1")
    assert not at.exception
    assert fragment in texts(at.warning) and "2023-06-12 至 2023-06-18" in texts(at.warning)
    assert at.button(key="school_reviews_submit").disabled
    assert at.text_input(key="school_reviews_query").disabled and at.button(key="school_reviews_find").disabled


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

    at = run_as(private_app, STAFF_PAGE, "staff")
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
    at = run_as(private_app, STAFF_PAGE, "staff")
    assert "结束后方可签发" in texts(at.info)
    school_at = run_as(private_app, SCHOOL_PAGE, "school1")
    assert school_at.button(key="school_reviews_sign").disabled

    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-19")
    at = run_as(private_app, STAFF_PAGE, "staff")
    assert not at.exception
    assert f"{leader.school_code} {leader.school_name}" in at.multiselect(key="reviews_sign_schools").options
    at.multiselect(key="reviews_sign_schools").set_value([leader.school_code])
    at.button(key="reviews_sign").click().run()
    assert "为 1 所院校签发" in texts(at.success)

    school_at = run_as(private_app, SCHOOL_PAGE, "school1")
    assert not school_at.exception and not school_at.button(key="school_reviews_sign").disabled
    school_at.button(key="school_reviews_sign").click().run()
    assert "本校已签发" in texts(school_at.success)
    assert sorted(rows(private_app, "select party, signed_by from signoffs where school_code = $s",
                       {"s": leader.school_code})) == [("org", "staff"), ("school", "school1")]
    assert {m.label: m.value for m in school_at.metric}["本校"].startswith("已签发")
    assert "可颁发证书" in texts(school_at.caption)
    certs = table(run_as(private_app, STAFF_PAGE, "staff"), "可颁发")
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
    at = run_as(private_app, STAFF_PAGE, "staff")
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
    at = run_as(private_app, STAFF_PAGE, "staff")
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
    at = run_as(private_app, STAFF_PAGE, "staff")
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
    at = run_as(private_app, STAFF_PAGE, "staff")
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


def school_names(con, school_code: str) -> dict[str, list[str]]:
    """name -> tickets of the school's candidates in the batch that are not yet in a review request."""
    out: dict[str, list[str]] = {}
    for ticket, name in rows(con, "select ticket_no, name from results where batch_code = $b and school_code = $s "
                                  "and not list_contains($x, ticket_no) order by ticket_no",
                             {"b": BATCH, "s": school_code, "x": sorted(filed_tickets(con))}):
        out.setdefault(name, []).append(ticket)
    return out


def share_a_name(con, school_code: str, n: int = 3) -> tuple[str, list[str]]:
    """Give n of the school's candidates one name (the test copy's school has no namesakes of its own)."""
    unique = sorted((t[0], name) for name, t in school_names(con, school_code).items() if len(t) == 1)
    name = unique[0][1]
    tickets = sorted(t for t, _ in unique[:n])
    for table in ("registrations", "results"):
        # Table names are this test's constants.
        con.execute(f"update {table} set name = $n where batch_code = $b and list_contains($t, ticket_no)",
                    {"n": name, "b": BATCH, "t": tickets})
    return name, tickets


def test_school_lookup_is_exact(private_app, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    leader = auth.reload_user(private_app, "school1")
    shared = share_a_name(private_app, leader.school_code)
    unique = next((n, t[0]) for n, t in sorted(school_names(private_app, leader.school_code).items())
                  if len(t) == 1 and len(n) == 3)
    at = run_as(private_app, SCHOOL_PAGE, "school1")

    ticket = unique[1]
    # typed with spaces and in full-width digits: still that one candidate
    find(at, " " + ticket[:4] + " " + ticket[4:].translate(str.maketrans("0123456789", "０１２３４５６７８９")))
    assert not at.exception and not at.warning
    assert ticket in texts(at.markdown) and "school_reviews_pick" not in keys_of(at.selectbox)
    assert "school_reviews_add" in keys_of(at.button)
    for partial in (ticket[:-1], ticket[2:], unique[0][:2]):
        find(at, partial)
        assert "未找到准考证号或姓名完全一致的本校考生" in texts(at.warning), partial
        assert "school_reviews_add" not in keys_of(at.button) and "school_reviews_pick" not in keys_of(at.selectbox)

    find(at, unique[0])
    assert "school_reviews_pick" not in keys_of(at.selectbox) and ticket in texts(at.markdown)

    find(at, shared[0])
    pick = at.selectbox(key="school_reviews_pick")
    assert pick.value is None and [o.split(" ")[0] for o in pick.options] == shared[1]
    assert at.button(key="school_reviews_add").disabled  # nothing picked yet
    pick.set_value(shared[1][1]).run()
    at.button(key="school_reviews_add").click().run()
    assert pending(at) == [shared[1][1]]
    assert at.text_input(key="school_reviews_query").value == ""
    find(at, shared[0])  # the one already on the list is no longer offered
    assert f"{shared[1][1]} {shared[0]} 已在待提交列表中" in texts(at.info)
    rest = [t for t in shared[1] if t != shared[1][1]]
    assert [o.split(" ")[0] for o in at.selectbox(key="school_reviews_pick").options] == rest
    at.button(key=f"school_reviews_remove_{shared[1][1]}").click().run()
    assert pending(at) == [] and f"school_reviews_reason_{shared[1][1]}" not in keys_of(at.selectbox)


def confirmation(at: AppTest):
    """The confirmation step's list of who will be filed."""
    hits = [t.value for t in at.table if list(t.value.columns) == ["准考证号", "姓名", "当前结果", "复核原因", "说明"]]
    assert len(hits) == 1, f"{len(hits)} confirmation lists"
    return hits[0]


def test_school_files_each_candidate_with_its_own_reason_after_confirming(private_app, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    leader = auth.reload_user(private_app, "school1")
    first, second = sorted(own_tickets(private_app, leader.school_code) - filed_tickets(private_app))[:2]
    at = run_as(private_app, SCHOOL_PAGE, "school1")
    add(at, first, "理论", "理论第5题疑似漏判")
    add(at, second, "其他")
    assert pending(at) == [first, second]
    assert at.selectbox(key=f"school_reviews_reason_{first}").value == "理论"  # each keeps its own
    before = writes(private_app)

    at.button(key="school_reviews_submit").click().run()  # 其他 without a note is stopped before confirming
    assert "复核原因为「其他」时须填写说明" in texts(at.error)
    assert "school_reviews_confirm_submit" not in keys_of(at.button)
    at.text_input(key=f"school_reviews_text_{second}").input("考生反映实操平台掉线").run()
    at.button(key="school_reviews_submit").click().run()
    listed = confirmation(at)
    assert listed[["准考证号", "复核原因", "说明"]].values.tolist() == [
        [first, "理论", "理论第5题疑似漏判"], [second, "其他", "考生反映实操平台掉线"]]
    assert set(listed["当前结果"]) <= {"合格", "不合格", "缺考", "—"}
    assert at.selectbox(key=f"school_reviews_reason_{first}").disabled  # locked while confirming
    assert writes(private_app) == before

    at.button(key="school_reviews_back").click().run()
    assert writes(private_app) == before and "school_reviews_confirm_submit" not in keys_of(at.button)
    assert pending(at) == [first, second] and at.text_input(key=f"school_reviews_text_{first}").value == "理论第5题疑似漏判"

    at.button(key="school_reviews_submit").click().run()
    at.button(key="school_reviews_confirm_submit").click().run()
    assert not at.exception and "2 名考生已列入本校复核申请" in texts(at.success)
    assert writes(private_app)[2] == before[2] + 2
    got = rows(private_app, "select i.ticket_no, i.reason_type, i.reason_text, r.school_code from review_items i "
                       "join review_requests r using (request_id) where list_contains($t, i.ticket_no) "
                       "order by i.ticket_no", {"t": [first, second]})
    assert got == [(first, "理论", "理论第5题疑似漏判", leader.school_code),
                   (second, "其他", "考生反映实操平台掉线", leader.school_code)]
    assert pending(at) == [] and at.text_input(key="school_reviews_query").value == ""
    assert not {k for k in keys_of(at.selectbox) | keys_of(at.text_input) if k.startswith("school_reviews_")} - {
        "school_reviews_query"}
    assert not [k for k in at.session_state if str(k).startswith(("school_reviews_reason_", "school_reviews_text_"))]
    assert "school_reviews_confirm_submit" not in keys_of(at.button) and not at.table


def test_school_cannot_add_a_candidate_already_filed(private_app, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    leader = auth.reload_user(private_app, "school1")
    ticket = min(own_tickets(private_app, leader.school_code) & filed_tickets(private_app))
    name = scalar(private_app, "select name from results where batch_code = $b and ticket_no = $t", {"b": BATCH, "t": ticket})
    at = run_as(private_app, SCHOOL_PAGE, "school1")
    for text in (ticket, name):
        find(at, text)
        assert f"{ticket} {name} 已在本校复核申请中" in texts(at.warning) + texts(at.info)
        if "school_reviews_pick" in keys_of(at.selectbox):
            assert ticket not in {o.split(" ")[0] for o in at.selectbox(key="school_reviews_pick").options}
        elif "school_reviews_add" in keys_of(at.button):
            assert ticket not in texts(at.markdown)
    assert pending(at) == []
