"""Certificates: the certificate list once a school's certificates can be issued, and the paper certificates
a school asks for (only its leader, only after the window, 0 to its passed candidates, audited)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from helpers import app_rows, rows, scalar

from examdash import demo
from examdash.domain import auth, certificates, reviews
from examdash.store import queries
from examdash.views import certificates as cert_views
from examdash.views.common import runner

BATCH = "2023-1"
AFTER = "2023-06-20"


@pytest.fixture
def school(fresh_db):
    """A school with candidates who passed and no review request, and a leader account for it."""
    code = rows(fresh_db, "select school_code from results where batch_code = $b and passed and school_code not in "
                          "(select school_code from review_requests) group by all having count(*) >= 3 "
                          "order by school_code limit 1", {"b": BATCH})[0][0]
    auth.create_user(fresh_db, "certtest", "负责人", "school", demo.DEMO_PASSWORD["school"], school_code=code, actor="test")
    return code, auth.reload_user(fresh_db, "certtest")


def passed_of(con, code: str) -> int:
    return scalar(con, "select count(*) from results where batch_code = $b and school_code = $s and passed",
                  {"b": BATCH, "s": code})


def test_paper_requests_are_refused_before_the_window_ends_and_for_staff(fresh_db, school, monkeypatch):
    code, leader = school
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-18")
    with pytest.raises(certificates.CertificateError, match="结束后"):
        certificates.request_paper(fresh_db, leader, BATCH, 3)
    monkeypatch.setenv("EXAMDASH_TODAY", AFTER)
    with pytest.raises(certificates.CertificateError, match="学校负责人为本校登记"):
        certificates.request_paper(fresh_db, auth.reload_user(fresh_db, "staff"), BATCH, 3)
    with pytest.raises(certificates.CertificateError, match=f"0 到本校该批次合格人数 {passed_of(fresh_db, code):,}"):
        certificates.request_paper(fresh_db, leader, BATCH, passed_of(fresh_db, code) + 1)
    for bad in (-1, 2.5, "3", True):
        with pytest.raises(certificates.CertificateError):
            certificates.request_paper(fresh_db, leader, BATCH, bad)
    forged = auth.User("certtest", "负责人", "school", "99999", "别校")
    with pytest.raises(certificates.CertificateError, match="权限已变更"):
        certificates.request_paper(fresh_db, forged, BATCH, 1)
    assert not rows(fresh_db, "select 1 from paper_certificate_requests")
    refused = app_rows(fresh_db, "select detail from request_events where action = 'paper_certificates_refused'")
    assert len(refused) == 8


def test_the_latest_request_counts_and_staff_see_the_totals(fresh_db, school, monkeypatch):
    code, leader = school
    monkeypatch.setenv("EXAMDASH_TODAY", AFTER)
    version = scalar(fresh_db, "select value from meta where key = 'data_version'")
    certificates.request_paper(fresh_db, leader, BATCH, 2, "寄教务处")
    certificates.request_paper(fresh_db, leader, BATCH, 1)
    assert scalar(fresh_db, "select value from meta where key = 'data_version'") != version
    day = dt.date.fromisoformat(AFTER)
    view = cert_views.build(runner(fresh_db), BATCH, day)
    mine = view.schools[view.schools.school_code == code].iloc[0]
    assert int(mine.copies) == 1 and mine.requested_by == "certtest" and mine.note is None
    assert dict((k, v) for k, v, _ in view.metrics)["纸质证书（份）"] == "1"
    detail = json.loads(rows(fresh_db, "select detail from audit_log where action = 'paper_certificates' "
                                       "order by audit_id desc limit 1")[0][0])
    assert detail == {"batch": BATCH, "school_code": code, "copies": 1, "passed": passed_of(fresh_db, code), "note": None}
    # a school sees its own row only
    own = queries.run(fresh_db, "paper_certificates", {"batch": BATCH, "today": day}, leader.scope)
    assert own.school_code.tolist() == [code]


def test_the_certificate_list_comes_once_both_have_signed(fresh_db, school, monkeypatch):
    code, leader = school
    monkeypatch.setenv("EXAMDASH_TODAY", AFTER)
    day = dt.date.fromisoformat(AFTER)
    run = runner(fresh_db)
    assert cert_views.certificate_list(run, BATCH, day, code).empty
    assert not cert_views.school_build(runner(fresh_db, leader.scope), leader, BATCH, day).can_issue
    reviews.sign_off(fresh_db, auth.reload_user(fresh_db, "staff"), BATCH, code)
    assert cert_views.certificate_list(run, BATCH, day, code).empty  # the school has not signed yet
    reviews.sign_off(fresh_db, leader, BATCH)
    listed = cert_views.certificate_list(run, BATCH, day, code)
    want = rows(fresh_db, "select ticket_no from results where batch_code = $b and school_code = $s and passed "
                          "order by ticket_no", {"b": BATCH, "s": code})
    assert sorted(listed["准考证号"]) == [t for (t,) in want]
    assert set(listed["证书状态"]) == {"可颁发"} and set(listed["级别"]) <= {"初级", "中级"}
    assert not listed["姓名"].str.contains("*", regex=False).any()
    mine = cert_views.school_build(runner(fresh_db, leader.scope), leader, BATCH, day)
    assert mine.can_issue and mine.status == "可颁发证书" and len(mine.table) == len(want)
