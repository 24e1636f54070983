"""The school's filing form without Streamlit: exact candidate lookup, per-row checks, the confirmation list."""

from __future__ import annotations

import pytest

from examdash.domain import reviews
from examdash.views import school_reviews
from examdash.views.school_reviews import Candidate, PendingRow, find_candidates

NOT_FOUND = "未找到准考证号或姓名完全一致的本校考生"


def cand(ticket: str, name: str, verdict: str = "不合格", filed: str | None = None) -> Candidate:
    return Candidate(ticket, name, verdict, f"{ticket} {name}（初级，理论 50 / 实操 70，{verdict}）", filed)


CANDIDATES = {c.ticket: c for c in (
    cand("231251800001", "王梅"),
    cand("231251800002", "王梅", "合格"),
    cand("231251800010", "王梅", filed="已提交"),
    cand("231251800011", "李娜"),
    cand("231251800111", "李娜娜", "缺考"),
    cand("23125180001A", "欧阳修"),
)}


@pytest.mark.parametrize("typed", ["231251800011", " 2312 5180 0011 ", "２３１２５１８０００１１", "231251800011\t"])
def test_a_whole_ticket_finds_that_one_candidate(typed):
    found = find_candidates(typed, CANDIDATES)
    assert found.tickets == ("231251800011",) and not found.notes


def test_ticket_letters_are_folded_to_upper_case():
    assert find_candidates("23125180001a", CANDIDATES).tickets == ("23125180001A",)
    assert find_candidates("２３１２５１８０００１ａ", CANDIDATES).tickets == ("23125180001A",)
    assert school_reviews.ticket_key(" ２３ １ａ ") == "231A"


@pytest.mark.parametrize("typed", ["23125180001", "31251800011", "2312518000", "1800011", "李", "娜娜", "王", "欧阳",
                                   "李娜 娜x", "%", "231251800011x"])
def test_a_part_of_a_ticket_or_a_name_finds_nobody(typed):
    found = find_candidates(typed, CANDIDATES)
    assert found.tickets == () and len(found.notes) == 1 and found.notes[0].startswith(NOT_FOUND)


def test_an_exact_name_finds_only_that_name():
    assert find_candidates("李娜", CANDIDATES).tickets == ("231251800011",)  # not 李娜娜
    assert find_candidates(" 李娜娜 ", CANDIDATES).tickets == ("231251800111",)


def test_a_shared_name_offers_each_namesake_not_yet_filed():
    found = find_candidates("王梅", CANDIDATES)
    assert found.tickets == ("231251800001", "231251800002")
    assert any("231251800010 王梅 已在本校复核申请中（状态：已提交）" in n for n in found.notes)
    assert any("有 2 名本校考生姓名为「王梅」" in n for n in found.notes)


def test_filed_and_pending_candidates_cannot_be_added_again():
    found = find_candidates("231251800010", CANDIDATES)
    assert found.tickets == () and "已在本校复核申请中" in found.notes[0] and "不能再次添加" in found.notes[0]
    found = find_candidates("231251800001", CANDIDATES, pending=["231251800001"])
    assert found.tickets == () and found.notes == ("231251800001 王梅 已在待提交列表中",)
    found = find_candidates("王梅", CANDIDATES, pending=["231251800001"])
    assert found.tickets == ("231251800002",)


@pytest.mark.parametrize("typed", ["", "   ", None, "\u3000"])
def test_an_empty_lookup_asks_for_input(typed):
    found = find_candidates(typed, CANDIDATES)
    assert found.tickets == () and "请输入" in found.notes[0]


def test_only_the_candidates_given_can_be_found():
    # the page passes SchoolReviews.candidates, the school's own: anything else is simply unknown
    assert find_candidates("231251800011", {}).tickets == ()


def test_pending_rows_are_checked_one_by_one():
    assert school_reviews.pending_problems([]) == ["请先查找考生并加入待提交列表"]
    problems = school_reviews.pending_problems([
        PendingRow("231251800001", None, ""),
        PendingRow("231251800002", "其他", "  "),
        PendingRow("231251800011", "理论", "x" * (reviews.MAX_TEXT + 1)),
        PendingRow("231251800111", "缺考误判", ""),
    ])
    assert problems == ["准考证号 231251800001：请选择复核原因",
                        "准考证号 231251800002：复核原因为「其他」时须填写说明",
                        f"准考证号 231251800011：说明不能超过 {reviews.MAX_TEXT} 字"]
    assert school_reviews.pending_problems([PendingRow("231251800002", "其他", "考生反映平台掉线")]) == []


def test_the_confirmation_lists_each_row_with_its_own_reason_and_note():
    rows = [PendingRow("231251800002", "总分", " 总分核算有误 "), PendingRow("231251800111", "缺考误判", "")]
    table = school_reviews.confirm_table(rows, CANDIDATES)
    assert table.values.tolist() == [["231251800002", "王梅", "合格", "总分", "总分核算有误"],
                                     ["231251800111", "李娜娜", "缺考", "缺考误判", ""]]
