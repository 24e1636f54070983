"""The candidates' self-lookup: the right pair finds the candidate's own result, any miss looks the same,
failed lookups are throttled per client and per ticket, and the audit log never holds the ID characters."""

from __future__ import annotations

import pytest
from helpers import rows

from examdash.domain import lookup

BATCH = "2023-1"


@pytest.fixture
def someone(fresh_db):
    """(ticket, id_no, name, theory, practical, passed) of a 2023-1 candidate who sat the exam."""
    return rows(fresh_db, "select ticket_no, id_no, name, theory::double, practical::double, passed from results "
                          "where batch_code = $b and passed and ticket_no is not null order by ticket_no limit 1",
                {"b": BATCH})[0]


def test_the_right_ticket_and_id_ending_find_the_candidates_own_result(fresh_db, someone, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-12")  # the first day of 2023-1's publicity window
    ticket, id_no, name, theory, practical, _ = someone
    found = lookup.find(fresh_db, f" {ticket} ", id_no[-6:].lower(), "10.0.0.1")
    assert len(found) == 1
    f = found[0]
    assert (f.ticket_no, f.theory, f.practical, f.verdict) == (ticket, theory, practical, "合格")
    assert f.name == name[0] + "*" * (len(name) - 1) and f.name != name
    assert f.review == "无" and f.certificate.startswith("合格，公示期未结束")
    assert "2023-06-12 至 2023-06-18" == f.publicity


def test_every_miss_is_the_same_and_before_the_window_nothing_is_found(fresh_db, someone, monkeypatch):
    ticket, id_no, *_ = someone
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-11")  # the day before the window
    assert lookup.find(fresh_db, ticket, id_no[-6:], "10.0.0.2") == []
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    other = "999999" if id_no[-6:] != "999999" else "888888"
    assert lookup.find(fresh_db, ticket, other, "10.0.0.2") == []  # a wrong ID ending
    assert lookup.find(fresh_db, "NO-SUCH-TICKET", id_no[-6:], "10.0.0.2") == []  # a wrong ticket
    assert lookup.find(fresh_db, ticket, "12", "10.0.0.2") == []  # malformed
    assert lookup.find(fresh_db, ticket, id_no[-6:], "10.0.0.2")  # the pair itself


def test_a_ticket_is_locked_after_five_misses_from_anywhere_and_a_client_after_ten(fresh_db, someone, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    ticket, id_no, *_ = someone
    wrong = [f"{n:06d}" for n in range(100000, 100020) if f"{n:06d}" != id_no[-6:]]
    for i in range(lookup.TICKET_MAX):
        assert lookup.find(fresh_db, ticket, wrong[i], f"10.1.0.{i}") == []
    with pytest.raises(lookup.LookupRefused, match="分钟后再试"):
        lookup.find(fresh_db, ticket, id_no[-6:], "10.1.0.99")  # even the right pair, from a new client
    # a client walking through tickets is locked after CLIENT_MAX misses; 'local' (unknown address) never is
    others = [r[0] for r in rows(fresh_db, "select ticket_no from results where batch_code = $b and ticket_no <> $t "
                                           "order by ticket_no limit 12", {"b": BATCH, "t": ticket})]
    for t in others[:lookup.CLIENT_MAX]:
        assert lookup.find(fresh_db, t, "000000", "10.2.0.1") == []
    with pytest.raises(lookup.LookupRefused):
        lookup.find(fresh_db, others[lookup.CLIENT_MAX], "000000", "10.2.0.1")
    for t in others[:lookup.CLIENT_MAX + 1]:
        assert lookup.find(fresh_db, t, "000001", None) == []


def test_every_lookup_is_audited_without_the_id_characters(fresh_db, someone, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    ticket, id_no, *_ = someone
    lookup.find(fresh_db, ticket, id_no[-6:], "10.3.0.1")
    lookup.find(fresh_db, ticket, "123456", "10.3.0.1")
    audited = rows(fresh_db, "select actor, action, target, detail from audit_log where action like 'candidate_lookup%' "
                             "order by audit_id")
    assert [(a, act, t) for a, act, t, _ in audited] == [("考生查询", "candidate_lookup", ticket)] * 2
    assert '"found": true' in audited[0][3] and '"found": false' in audited[1][3]
    everything = " ".join(str(r) for r in audited + rows(fresh_db, "select * from lookup_throttle"))
    assert id_no[-6:] not in everything and "123456" not in everything
