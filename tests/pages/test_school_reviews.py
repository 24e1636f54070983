"""AppTest of the two review pages: 复核 (staff) and 成绩复核申请 (school leaders).

Each test runs the page script on its own private copy of the demo database (the pages write), with
the identity seeded in session state the way web.sign_in stores it and "today" pinned by EXAMDASH_TODAY.
"""

from __future__ import annotations

import pytest
from helpers import BATCH, keys_of, page_as, rows, scalar, table, texts
from streamlit.testing.v1 import AppTest

from examdash.domain import auth

STAFF_PAGE, SCHOOL_PAGE = "app_pages/reviews.py", "app_pages/school_reviews.py"




def own_tickets(con, school_code: str) -> set[str]:
    return {r[0] for r in rows(con, "select ticket_no from registrations where batch_code = $b and school_code = $s "
                                    "and status = '正常' and ticket_no is not null", {"b": BATCH, "s": school_code})}


def filed_tickets(con) -> set[str]:
    return {r[0] for r in rows(con, "select ticket_no from review_items")}


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


def test_school_files_a_request_inside_the_window(private_app, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    leader = auth.reload_user(private_app, "school1")
    at = page_as(SCHOOL_PAGE, "school1", private_app, BATCH)
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
    at = page_as(SCHOOL_PAGE, "school1", private_app, BATCH)
    assert not at.exception
    assert fragment in texts(at.warning) and "2023-06-12 至 2023-06-18" in texts(at.warning)
    assert at.button(key="school_reviews_submit").disabled
    assert at.text_input(key="school_reviews_query").disabled and at.button(key="school_reviews_find").disabled


def writes(con) -> tuple[int, int, int]:
    """What a decision or a filing writes: item events, score versions, review items."""
    return (scalar(con, "select count(*) from review_item_events"), scalar(con, "select count(*) from score_versions"),
            scalar(con, "select count(*) from review_items"))


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
    for tbl in ("registrations", "results"):
        # Table names are this test's constants.
        con.execute(f"update {tbl} set name = $n where batch_code = $b and list_contains($t, ticket_no)",
                    {"n": name, "b": BATCH, "t": tickets})
    return name, tickets


def test_school_lookup_is_exact(private_app, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    leader = auth.reload_user(private_app, "school1")
    shared = share_a_name(private_app, leader.school_code)
    unique = next((n, t[0]) for n, t in sorted(school_names(private_app, leader.school_code).items())
                  if len(t) == 1 and len(n) == 3)
    at = page_as(SCHOOL_PAGE, "school1", private_app, BATCH)

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
    at = page_as(SCHOOL_PAGE, "school1", private_app, BATCH)
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
    at = page_as(SCHOOL_PAGE, "school1", private_app, BATCH)
    for text in (ticket, name):
        find(at, text)
        assert f"{ticket} {name} 已在本校复核申请中" in texts(at.warning) + texts(at.info)
        if "school_reviews_pick" in keys_of(at.selectbox):
            assert ticket not in {o.split(" ")[0] for o in at.selectbox(key="school_reviews_pick").options}
        elif "school_reviews_add" in keys_of(at.button):
            assert ticket not in texts(at.markdown)
    assert pending(at) == []
