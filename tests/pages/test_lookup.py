"""AppTest of 考生成绩查询, the page of the signed-out app: reachable without an account from its menu, the
right pair shows the candidate's own masked result, any miss the same message."""

from __future__ import annotations

from helpers import ROOT, rows, texts
from streamlit.testing.v1 import AppTest

from examdash.domain import lookup


def _signed_out_lookup() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    at.switch_page("app_pages/lookup.py").run()
    assert not at.exception
    return at


def _ask(at: AppTest, ticket: str, tail: str) -> AppTest:
    at.text_input(key="lookup_ticket").set_value(ticket)
    at.text_input(key="lookup_id_tail").set_value(tail)
    return at.button(key="lookup_submit").click().run()


def test_a_candidate_finds_their_result_without_an_account(private_app):
    ticket, id_no, name, total = rows(private_app, "select ticket_no, id_no, name, total::double from results "
                                                   "where batch_code = '2023-1' and passed order by ticket_no limit 1")[0]
    at = _signed_out_lookup()
    assert at.title[0].value == "考生成绩查询"
    _ask(at, ticket, id_no[-6:])
    shown = at.dataframe[0].value.iloc[0]
    assert (shown["准考证号"], shown["结果"], shown["总成绩"]) == (ticket, "合格", total)
    assert shown["姓名"] != name and shown["姓名"].startswith(name[0])

    wrong_id = _ask(_signed_out_lookup(), ticket, "000000" if id_no[-6:] != "000000" else "111111")
    wrong_ticket = _ask(_signed_out_lookup(), "X" + ticket, id_no[-6:])
    assert texts(wrong_id.warning) == texts(wrong_ticket.warning) == lookup.NOT_FOUND
    assert not wrong_id.dataframe and not wrong_ticket.dataframe

