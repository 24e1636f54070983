"""The candidates' self-lookup: the ticket and the full ID number find the candidate's own result from the
process's index, any miss looks the same, throttling is per client and under a global ceiling (never per
ticket, so an attacker cannot lock the owner out), every lookup is a request event without the ID number,
and nothing of it is a lake snapshot."""

from __future__ import annotations

import json

import pytest
from helpers import app_rows, lake_snapshots, rows, scalar

from examdash.domain import auth, ids, lookup, reviews

BATCH = "2023-1"


@pytest.fixture
def someone(fresh_db):
    """(ticket, id_no, name, theory, practical, passed, school_code) of a 2023-1 candidate who passed."""
    return rows(fresh_db, "select ticket_no, id_no, name, theory::double, practical::double, passed, school_code "
                          "from results where batch_code = $b and passed and ticket_no is not null "
                          "order by ticket_no limit 1", {"b": BATCH})[0]


def other_id(id_no: str) -> str:
    """Another well-formed ID number (valid check digit) that is not `id_no`."""
    first17 = id_no[:14] + ("000" if id_no[14:17] != "000" else "001")
    return first17 + ids.id_check_char(first17)


def test_the_ticket_and_the_full_id_find_the_candidates_own_result(fresh_db, someone, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-12")  # the first day of 2023-1's publicity window
    ticket, id_no, name, theory, practical, *_ = someone
    typed = " ".join([id_no[:6], id_no[6:14], id_no[14:].lower()])  # spaces and a lower-case x are fine
    found = lookup.find(fresh_db, f" {ticket} ", typed, "10.0.0.1")
    assert len(found) == 1
    f = found[0]
    assert (f.ticket_no, f.theory, f.practical, f.verdict) == (ticket, theory, practical, "合格")
    assert f.name == ids.mask_name(name) and f.name != name
    assert f.review == "无" and f.before is None and f.certificate.startswith("合格，公示期未结束")
    assert f.publicity == "2023-06-12 至 2023-06-18"


def test_every_miss_is_the_same_and_before_the_window_nothing_is_found(fresh_db, someone, monkeypatch):
    ticket, id_no, *_ = someone
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-11")  # the day before the window
    assert lookup.find(fresh_db, ticket, id_no, "10.0.0.2") == []
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    assert lookup.find(fresh_db, ticket, other_id(id_no), "10.0.0.2") == []  # a wrong ID number
    assert lookup.find(fresh_db, "NO-SUCH-TICKET", id_no, "10.0.0.2") == []  # a wrong ticket
    assert lookup.find(fresh_db, ticket, id_no[-6:], "10.0.0.2") == []  # what a masked list gives away is not enough
    assert lookup.find(fresh_db, ticket, id_no[:-1] + ("0" if id_no[-1] != "0" else "1"), "10.0.0.2") == []  # bad check
    assert lookup.find(fresh_db, ticket, id_no, "10.0.0.2")  # the pair itself


def test_an_attackers_wrong_tries_never_keep_the_owner_out(fresh_db, someone, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    ticket, id_no, *_ = someone
    for i in range(60):  # many clients guessing the same ticket
        assert lookup.find(fresh_db, ticket, other_id(id_no)[:-4] + f"{i:03d}0", f"10.1.{i // 10}.{i}") == []
    assert lookup.find(fresh_db, ticket, id_no, "10.1.99.1")  # the owner, from their own client


def test_a_client_is_locked_after_ten_misses_and_an_unknown_address_never(fresh_db, someone, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    ticket, id_no, *_ = someone
    for _ in range(lookup.CLIENT_MAX):
        assert lookup.find(fresh_db, ticket, other_id(id_no), "10.2.0.1") == []
    with pytest.raises(lookup.LookupRefused, match="分钟后再试"):
        lookup.find(fresh_db, ticket, id_no, "10.2.0.1")  # even the right pair, from that client
    assert lookup.find(fresh_db, ticket, id_no, "10.2.0.2")  # another client is served
    for _ in range(lookup.CLIENT_MAX + 1):
        assert lookup.find(fresh_db, ticket, other_id(id_no), None) == []
    assert lookup.find(fresh_db, ticket, id_no, None)


def test_past_the_global_ceiling_failing_clients_are_held_and_fresh_ones_served(fresh_db, someone, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    monkeypatch.setattr(lookup, "GLOBAL_MAX", 6)
    ticket, id_no, *_ = someone
    for i in range(6):  # six clients, one miss each: the ceiling is reached
        assert lookup.find(fresh_db, ticket, other_id(id_no), f"10.3.0.{i}") == []
    assert lookup.find(fresh_db, ticket, other_id(id_no), "10.3.0.0") == []  # a second miss: TIGHT_MAX reached
    with pytest.raises(lookup.LookupRefused):
        lookup.find(fresh_db, ticket, other_id(id_no), "10.3.0.0")
    assert lookup.find(fresh_db, ticket, id_no, "10.3.1.1")  # a client without misses still gets its answer


def test_every_lookup_is_a_request_event_without_the_id_number_and_no_lake_snapshot(fresh_db, someone, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    ticket, id_no, *_ = someone
    before = lake_snapshots(fresh_db)
    lookup.find(fresh_db, ticket, id_no, "10.4.0.1")
    lookup.find(fresh_db, ticket, other_id(id_no), "10.4.0.1")
    lookup.find(fresh_db, id_no, ticket, "10.4.0.1")  # the fields swapped: an ID number typed as the ticket
    assert lake_snapshots(fresh_db) == before
    events = app_rows(fresh_db, "select actor, action, target, detail from request_events "
                                "where action like 'candidate_lookup%' order by event_id")
    assert [(a, act, t) for a, act, t, _ in events] == [("考生查询", "candidate_lookup", ticket)] * 2 + [
        ("考生查询", "candidate_lookup", "（格式不符）")]
    assert [json.loads(d)["found"] for *_, d in events] == [True, False, False]
    everything = " ".join(str(r) for r in events + app_rows(fresh_db, "select * from throttle"))
    assert id_no not in everything and id_no[-6:] not in everything and other_id(id_no) not in everything


def test_the_index_is_rebuilt_when_a_correction_lands(fresh_db, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    con = fresh_db
    staff = auth.reload_user(con, "staff")
    leader = auth.reload_user(con, "school1")
    ticket, id_no, theory, practical, total = rows(
        con, "select ticket_no, id_no, theory::double, practical::double, total::double from results "
             "where batch_code = $b and school_code = $s and sat and not passed and ticket_no is not null "
             "and ticket_no not in (select ticket_no from review_items) order by ticket_no limit 1",
        {"b": BATCH, "s": leader.school_code})[0]
    first = lookup.find(con, ticket, id_no, "10.5.0.1")[0]
    assert (first.theory, first.verdict, first.review) == (theory, "不合格", "无")
    reviews.file_request(con, leader, BATCH, [(ticket, "理论", "理论第二大题漏判")])
    item = scalar(con, "select item_id from review_items where ticket_no = $t", {"t": ticket})
    assert lookup.find(con, ticket, id_no, "10.5.0.1")[0].review == "复核中（已提交）"
    reviews.decide(con, staff, item, "更正", "理论第二大题漏判 8 分", theory=max(theory + 8, 60.0),
                   practical=max(practical, 60.0))
    after = lookup.find(con, ticket, id_no, "10.5.0.1")[0]
    assert after.review == "成绩已更正" and after.review_note == "理论第二大题漏判 8 分"
    assert after.theory == max(theory + 8, 60.0) and after.verdict == "合格"
    assert after.before == (theory, practical, total) and str(after.review_date) == "2023-06-14"
