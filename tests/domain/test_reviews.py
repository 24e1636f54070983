"""The publicity week: who may file, decide and sign on which day, corrections as new score versions,
final decisions, the audit trail, the queue query and the import of the platform's review export.

Expected figures come from the demo exports (demo_frames) or raw tables, never from the query under test.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from helpers import (
    BATCH,
    app_rows,
    lake_snapshots,
    find_line,
    retire_demo_passwords,
    rows,
    scalar,
    table_snapshot,
    write_frame,
)

from examdash import demo
from examdash.cli import main
from examdash.domain import auth, reviews
from examdash.importers import import_file
from examdash.store import db, queries
from examdash.views.common import runner

BEFORE, FIRST, LAST, AFTER = "2023-06-11", "2023-06-12", "2023-06-18", "2023-06-19"


def pin(monkeypatch, day: str) -> None:
    monkeypatch.setenv("EXAMDASH_TODAY", day)


def user(con, name: str) -> auth.User:
    u = auth.reload_user(con, name)
    assert u is not None, name
    return u


def filed_tickets(con) -> set[str]:
    return {r[0] for r in rows(con, "select ticket_no from review_items")}


def school_without_requests(con, exclude: set[str]) -> str:
    """A school with at least a few 2023-1 candidates and no review request yet."""
    return rows(con, "select school_code from registrations where batch_code = $b and status = '正常' "
                     "and ticket_no is not null and school_code not in (select school_code from review_requests) "
                     "and not list_contains($x, school_code) group by all having count(*) >= 3 order by school_code",
                {"b": BATCH, "x": sorted(exclude)})[0][0]


def school_user(con, code: str, name: str = "schooltest") -> auth.User:
    auth.create_user(con, name, f"{code} 负责人", "school", demo.DEMO_PASSWORD["school"], school_code=code, actor="test")
    return user(con, name)


def tickets_of(con, code: str, n: int = 3) -> list[str]:
    got = [r[0] for r in rows(con, "select ticket_no from registrations where batch_code = $b and school_code = $s "
                                   "and status = '正常' and ticket_no is not null order by ticket_no",
                              {"b": BATCH, "s": code})]
    got = [t for t in got if t not in filed_tickets(con)]
    assert len(got) >= n
    return got[:n]


def export_rates(frames, school: str, level: str) -> tuple[int, int, pd.DataFrame]:
    """(passed, sat, candidates) of a school and level computed from the demo export files."""
    regs, att, sc = (frames[k][BATCH] for k in ("registrations", "attendance", "scores"))
    r = regs[(regs["院校代码"] == school) & (regs["级别"] == level) & (regs["报名状态"] == "正常")].copy()
    r["status"] = r["准考证号"].map(dict(zip(att["准考证号"], att["签到状态"])))
    r["theory"] = pd.to_numeric(r["准考证号"].map(dict(zip(sc["准考证号"], sc["理论成绩"]))), errors="coerce")
    r["practical"] = pd.to_numeric(r["准考证号"].map(dict(zip(sc["准考证号"], sc["实操成绩"]))), errors="coerce")
    r["sat"] = r["status"].isin(["已签到", "违纪"])
    r["passed"] = r["sat"] & (r["status"] != "违纪") & (r["theory"] >= 60) & (r["practical"] >= 60)
    return int(r["passed"].sum()), int(r["sat"].sum()), r


def results_rate(con, school: str, level: str) -> tuple[int, int]:
    got = rows(con, "select count_if(passed)::bigint, count_if(sat)::bigint from results "
                    "where batch_code = $b and school_code = $s and level = $l", {"b": BATCH, "s": school, "l": level})
    return int(got[0][0]), int(got[0][1])


def audit_actions(con, after: int = 0) -> list[tuple]:
    """Audited actions after audit_id `after` (the demo database already holds the demo's reviews)."""
    return rows(con, "select action, actor, target, detail from audit_log where audit_id > $a order by audit_id",
                {"a": after})


def refusals(con) -> list[tuple]:
    """Refused review actions: request events of the application database (no lake snapshot)."""
    return app_rows(con, "select action, actor, target, detail from request_events where action = 'review_refused' "
                         "order by event_id")


def review_tables(con) -> dict:
    snap = table_snapshot(con)
    return {k: snap[k] for k in ("review_requests", "review_items", "review_item_events", "signoffs", "score_versions",
                                 "results", "attendance")}


@pytest.mark.parametrize("day, can_file, can_sign", [
    (BEFORE, False, False), (FIRST, True, False), (LAST, True, False), (AFTER, False, True)])
def test_what_each_role_can_do_on_each_day(fresh_db, monkeypatch, day, can_file, can_sign):
    con = fresh_db
    code = school_without_requests(con, set())
    leader = school_user(con, code)
    staff = user(con, "staff")
    t1, t2, _ = tickets_of(con, code)
    pin(monkeypatch, day)

    if can_file:
        rid = reviews.file_request(con, leader, BATCH, [(t1, "理论", "理论成绩偏低")])
        assert rows(con, "select school_code, filed_by, cast(filed_at as date) from review_requests where request_id = $r",
                    {"r": rid}) == [(code, leader.username, dt.date.fromisoformat(day))]
    else:
        with pytest.raises(reviews.ReviewError) as exc:
            reviews.file_request(con, leader, BATCH, [(t1, "理论", "理论成绩偏低")])
        assert ("尚未开始" if day == BEFORE else "逾期") in str(exc.value)
        assert "2023-06-12 至 2023-06-18" in str(exc.value)
        assert scalar(con, "select count(*) from review_requests where school_code = $s", {"s": code}) == 0

    # Staff never file for a school, and a school never decides.
    with pytest.raises(reviews.ReviewError, match="只有学校负责人"):
        reviews.file_request(con, staff, BATCH, [(t2, "实操", None)])
    if can_file:
        item = scalar(con, "select max(item_id) from review_items")
        with pytest.raises(reviews.ReviewError, match="只有考务人员"):
            reviews.decide(con, leader, item, "维持", "自己结案")
        reviews.start_review(con, staff, item, "调卷")
        reviews.decide(con, staff, item, "维持", "阅卷无误")
        assert scalar(con, "select status from review_items where item_id = $i", {"i": item}) == "维持"

    if can_sign:
        assert reviews.sign_off(con, staff, BATCH, code) == "org"
        assert reviews.sign_off(con, leader, BATCH) == "school"
        assert sorted(r[0] for r in rows(con, "select party from signoffs where school_code = $s", {"s": code})) == [
            "org", "school"]
    else:
        for who, arg in ((staff, code), (leader, None)):
            with pytest.raises(reviews.ReviewError, match="尚未结束"):
                reviews.sign_off(con, who, BATCH, arg)
        assert scalar(con, "select count(*) from signoffs") == 0


def test_window_boundaries_follow_the_plan(fresh_db):
    win = reviews.window(fresh_db, BATCH)
    assert (win.start, win.end, win.cert_from) == (dt.date(2023, 6, 12), dt.date(2023, 6, 18), dt.date(2023, 6, 19))
    d = dt.date.fromisoformat
    assert [win.state(d(x)) for x in (BEFORE, FIRST, LAST, AFTER)] == ["before", "open", "open", "closed"]
    assert [win.days_left(d(x)) for x in (BEFORE, FIRST, LAST, AFTER)] == [7, 7, 1, 0]
    assert "还有 1 天" in win.describe(d(BEFORE)) and "已于 2023-06-18 结束" in win.describe(d(AFTER))
    for day, state, to_open, left, to_cert in ((BEFORE, "before", 1, 7, 8), (FIRST, "open", 0, 7, 7),
                                               (LAST, "open", 0, 1, 1), (AFTER, "closed", 0, 0, 0)):
        got = (win.state(d(day)), win.days_to_open(d(day)), win.days_left(d(day)), win.days_to_cert(d(day)))
        assert got == (state, to_open, left, to_cert)


def test_a_school_cannot_name_another_schools_candidate(fresh_db, monkeypatch):
    con = fresh_db
    pin(monkeypatch, "2023-06-14")
    leader = user(con, "school1")
    other_code = school_without_requests(con, {leader.school_code})
    other_ticket = tickets_of(con, other_code, 1)[0]
    own = tickets_of(con, leader.school_code, 1)[0]
    before = review_tables(con)
    for ticket in (other_ticket, "239999999999"):
        with pytest.raises(reviews.ReviewError, match="不是本校"):
            reviews.file_request(con, leader, BATCH, [(own, "理论", None), (ticket, "理论", None)])
    # A forged identity (another school's code under school1's name) is refused too.
    forged = auth.User(leader.username, leader.display_name, "school", other_code)
    with pytest.raises(reviews.ReviewError, match="权限已变更"):
        reviews.file_request(con, forged, BATCH, [(other_ticket, "理论", None)])
    assert review_tables(con) == before
    refused = refusals(con)
    assert len(refused) == 3 and all(r[1] == leader.username for r in refused)
    assert other_ticket in refused[0][3] and "不是本校" in refused[0][3]


def test_one_request_per_school_and_batch(fresh_db, monkeypatch):
    con = fresh_db
    pin(monkeypatch, FIRST)
    code = school_without_requests(con, set())
    leader = school_user(con, code)
    t1, t2, t3 = tickets_of(con, code)
    start = scalar(con, "select coalesce(max(audit_id), 0) from audit_log")
    rid = reviews.file_request(con, leader, BATCH, [(t1, "理论", None)])
    pin(monkeypatch, LAST)
    assert reviews.file_request(con, leader, BATCH, [(t2, "缺考误判", "签到表漏签"), (t3, "总分", None)]) == rid
    assert scalar(con, "select count(*) from review_requests where school_code = $s", {"s": code}) == 1
    assert scalar(con, "select count(*) from review_items where request_id = $r", {"r": rid}) == 3
    with pytest.raises(reviews.ReviewError, match="已在本校的复核申请中"):
        reviews.file_request(con, leader, BATCH, [(t1, "实操", None)])
    with pytest.raises(reviews.ReviewError, match="须填写说明"):
        reviews.file_request(con, leader, BATCH, [(t1, "其他", "")])
    with pytest.raises(reviews.ReviewError, match="无效"):
        reviews.file_request(con, leader, BATCH, [(t1, "态度", None)])
    assert [r[0] for r in audit_actions(con, start) if r[0].startswith("review_") and r[0] != "review_refused"] == [
        "review_file", "review_add_items"]


def test_correction_changes_the_pass_rate_and_keeps_the_old_version(fresh_db, demo_frames, monkeypatch):
    con = fresh_db
    pin(monkeypatch, "2023-06-14")
    leader, staff = user(con, "school1"), user(con, "staff")
    code = leader.school_code
    taken = filed_tickets(con)
    pick = None
    for level in ("初级", "中级"):
        passed, sat, cands = export_rates(demo_frames, code, level)
        fail = cands[(cands.status == "已签到") & ((cands.theory < 60) | (cands.practical < 60))
                     & ~cands["准考证号"].isin(taken)]
        if len(fail):
            pick = (level, passed, sat, fail.iloc[0])
            break
    assert pick is not None, "school1 has no failing candidate"
    level, passed, sat, cand = pick
    ticket = cand["准考证号"]
    assert results_rate(con, code, level) == (passed, sat)
    old = rows(con, "select version, theory, practical, source from score_versions where batch_code = $b and ticket_no = $t",
               {"b": BATCH, "t": ticket})
    assert len(old) == 1 and float(old[0][1]) == cand.theory

    reviews.file_request(con, leader, BATCH, [(ticket, "理论", "理论第二大题漏判")])
    item = scalar(con, "select item_id from review_items where ticket_no = $t", {"t": ticket})
    reviews.start_review(con, staff, item, "已调取试卷")
    version = reviews.decide(con, staff, item, "更正", "理论第二大题漏判 8 分", theory=max(cand.theory + 8, 60.0),
                             practical=max(cand.practical, 60.0))
    assert version == 2

    assert results_rate(con, code, level) == (passed + 1, sat)
    rate_before, rate_after = passed / sat, (passed + 1) / sat
    got = rows(con, "select count_if(passed) / count_if(sat) from results where batch_code = $b and school_code = $s "
                    "and level = $l", {"b": BATCH, "s": code, "l": level})[0][0]
    assert got == pytest.approx(rate_after) and got != pytest.approx(rate_before)

    versions = rows(con, "select version, theory, practical, source, reason, created_by from score_versions "
                         "where batch_code = $b and ticket_no = $t order by version", {"b": BATCH, "t": ticket})
    assert versions[0][:4] == old[0] and versions[1][0] == 2 and versions[1][3] == "review"
    assert float(versions[1][1]) >= 60 and versions[1][4] == "理论第二大题漏判 8 分" and versions[1][5] == "staff"
    hist = queries.run(con, "review_score_history", {"batch": BATCH, "ticket": ticket})
    assert hist.version.tolist() == [2, 1] and hist.is_latest.tolist() == [True, False]
    # The school sees its own candidate's history, and nothing of another school's.
    sc = leader.scope
    assert len(queries.run(con, "review_score_history", {"batch": BATCH, "ticket": ticket}, sc)) == 2
    other = rows(con, "select ticket_no from registrations where batch_code = $b and school_code <> $s and ticket_no "
                      "is not null limit 1", {"b": BATCH, "s": code})[0][0]
    assert len(queries.run(con, "review_score_history", {"batch": BATCH, "ticket": other}, sc)) == 0
    assert scalar(con, "select new_version from review_items where item_id = $i", {"i": item}) == 2
    detail = [r[3] for r in audit_actions(con) if r[0] == "review_decide" and r[2] == f"review_item:{item}"][0]
    assert '"old_scores"' in detail and '"new_scores"' in detail


def test_wrongly_absent_candidate_corrected_to_passing(fresh_db, monkeypatch):
    con = fresh_db
    pin(monkeypatch, "2023-06-14")
    staff = user(con, "staff")
    absent = rows(con, "select school_code, ticket_no, level from results where batch_code = $b and attendance_status = '缺考' "
                       "and not list_contains($x, ticket_no) order by ticket_no limit 1",
                  {"b": BATCH, "x": sorted(filed_tickets(con))})
    code, ticket, level = absent[0]
    leader = school_user(con, code)
    passed, sat = results_rate(con, code, level)
    reviews.file_request(con, leader, BATCH, [(ticket, "缺考误判", "当天到场，签到表漏签")])
    item = scalar(con, "select item_id from review_items where ticket_no = $t", {"t": ticket})
    reviews.decide(con, staff, item, "更正", "核对监考记录，考生到场参考", theory=72, practical=68.5)
    assert results_rate(con, code, level) == (passed + 1, sat + 1)
    assert scalar(con, "select status from attendance where batch_code = $b and ticket_no = $t",
                  {"b": BATCH, "t": ticket}) == "已签到"
    assert scalar(con, "select count(*) from score_versions where ticket_no = $t and batch_code = $b",
                  {"t": ticket, "b": BATCH}) == 2


def test_a_second_decision_on_a_closed_item_is_refused(fresh_db, monkeypatch):
    con = fresh_db
    pin(monkeypatch, "2023-06-14")
    code = school_without_requests(con, set())
    leader, staff = school_user(con, code), user(con, "staff")
    t1, t2, _ = tickets_of(con, code)
    reviews.file_request(con, leader, BATCH, [(t1, "实操", None), (t2, "理论", None)])
    i1, i2 = [r[0] for r in rows(con, "select item_id from review_items where ticket_no in ($a, $b) order by ticket_no",
                                 {"a": t1, "b": t2})]
    with pytest.raises(reviews.ReviewError, match="须填写说明"):
        reviews.decide(con, staff, i1, "驳回", "  ")
    reviews.decide(con, staff, i1, "驳回", "不属于复核范围")
    reviews.start_review(con, staff, i2)
    with pytest.raises(reviews.ReviewError, match="已是「复核中」"):
        reviews.start_review(con, staff, i2)
    before = review_tables(con)
    version_before, snapshots = db.data_version(con), lake_snapshots(con)
    for outcome, kw in (("维持", {}), ("更正", {"theory": 90, "practical": 90}), ("驳回", {})):
        with pytest.raises(reviews.ReviewError, match="最终结论，不能再次处理"):
            reviews.decide(con, staff, i1, outcome, "再议", **kw)
    with pytest.raises(reviews.ReviewError, match="最终结论"):
        reviews.start_review(con, staff, i1)
    assert review_tables(con) == before
    assert db.data_version(con) == version_before  # the refusals are request events: no lake write, no new version
    assert lake_snapshots(con) == snapshots
    refused = queries.run(con, "review_refusals", {"batch": BATCH})
    assert (refused.reason.str.contains("最终结论")).sum() == 4
    assert scalar(con, "select status from review_items where item_id = $i", {"i": i1}) == "驳回"


def test_every_write_is_audited_and_bumps_the_data_version(fresh_db, monkeypatch):
    con = fresh_db
    code = school_without_requests(con, set())
    leader, staff = school_user(con, code), user(con, "staff")
    t1, t2, _ = tickets_of(con, code)
    start = scalar(con, "select max(audit_id) from audit_log")
    steps = []

    def step(fn):
        v = db.data_version(con)
        fn()
        assert db.data_version(con) > v
        steps.append(1)

    pin(monkeypatch, FIRST)
    step(lambda: reviews.file_request(con, leader, BATCH, [(t1, "理论", None)]))
    step(lambda: reviews.file_request(con, leader, BATCH, [(t2, "实操", None)]))
    i1, i2 = [r[0] for r in rows(con, "select item_id from review_items where ticket_no in ($a, $b) order by item_id",
                                 {"a": t1, "b": t2})]
    step(lambda: reviews.start_review(con, staff, i1, "调卷"))
    step(lambda: reviews.decide(con, staff, i1, "维持", "无误"))
    step(lambda: reviews.decide(con, staff, i2, "更正", "漏计", theory=88, practical=77))
    pin(monkeypatch, AFTER)
    with pytest.raises(reviews.ReviewError):
        reviews.file_request(con, leader, BATCH, [(tickets_of(con, code, 1)[0], "理论", None)])
    step(lambda: reviews.sign_off(con, staff, BATCH, code))
    step(lambda: reviews.sign_off(con, leader, BATCH))
    log = rows(con, "select action, actor, target from audit_log where audit_id > $a order by audit_id", {"a": start})
    assert [a for a, _, _ in log] == ["review_file", "review_add_items", "review_start", "review_decide", "review_decide",
                                      "signoff", "signoff"]
    assert [w for _, w, _ in log] == ["schooltest", "schooltest", "staff", "staff", "staff", "staff", "schooltest"]
    assert [(a, w) for a, w, *_ in refusals(con)] == [("review_refused", "schooltest")]  # a request event, not data
    events = rows(con, "select item_id, actor, from_status, to_status from review_item_events where item_id in ($a, $b) "
                       "order by item_id, rowid", {"a": i1, "b": i2})
    assert events == [(i1, "schooltest", None, "已提交"), (i1, "staff", "已提交", "复核中"), (i1, "staff", "复核中", "维持"),
                      (i2, "schooltest", None, "已提交"), (i2, "staff", "已提交", "更正")]
    with pytest.raises(reviews.ReviewError, match="无需重复签发"):
        reviews.sign_off(con, staff, BATCH, code)


def test_certificates_need_window_over_no_open_items_and_both_signoffs(fresh_db, demo_frames, monkeypatch):
    con = fresh_db
    code = school_without_requests(con, set())
    leader, staff = school_user(con, code), user(con, "staff")
    t1 = tickets_of(con, code, 1)[0]
    pin(monkeypatch, LAST)
    reviews.file_request(con, leader, BATCH, [(t1, "总分", None)])
    item = scalar(con, "select item_id from review_items where ticket_no = $t", {"t": t1})

    def status(day):
        c = reviews.certificate_status(con, BATCH, dt.date.fromisoformat(day))
        return c[c.school_code == code].iloc[0]

    s = status(LAST)
    assert (bool(s.window_over), bool(s.can_issue), s.open_items) == (False, False, 1)
    pin(monkeypatch, AFTER)
    s = status(AFTER)
    assert (bool(s.window_over), bool(s.can_issue), s.status_text) == (True, False, "尚有 1 项复核未结")
    with pytest.raises(reviews.ReviewError, match="尚有 1 项成绩复核未结"):
        reviews.sign_off(con, staff, BATCH, code)
    reviews.decide(con, staff, item, "维持", "无误")
    reviews.sign_off(con, staff, BATCH, code)
    assert status(AFTER).status_text == "待学校签发"
    with pytest.raises(reviews.ReviewError, match="只能为本校签发"):
        reviews.sign_off(con, leader, BATCH, school_without_requests(con, {code}))
    reviews.sign_off(con, leader, BATCH)
    s = status(AFTER)
    expected_passed = sum(export_rates(demo_frames, code, lv)[0] for lv in ("初级", "中级"))
    assert bool(s.can_issue) and s.status_text == "可颁发证书" and s.passed == expected_passed
    # The school sees its own row only.
    mine = reviews.certificate_status(con, BATCH, dt.date(2023, 6, 19), leader.scope)
    assert mine.school_code.tolist() == [code]


def test_review_queue_columns_scope_and_ages(fresh_db, monkeypatch):
    con = fresh_db
    a_code = school_without_requests(con, set())
    b_code = school_without_requests(con, {a_code})
    a, b = school_user(con, a_code, "schoola"), school_user(con, b_code, "schoolb")
    pin(monkeypatch, FIRST)
    ta = tickets_of(con, a_code, 1)[0]
    reviews.file_request(con, a, BATCH, [(ta, "理论", "说明 A")])
    pin(monkeypatch, "2023-06-15")
    tb = tickets_of(con, b_code, 1)[0]
    reviews.file_request(con, b, BATCH, [(tb, "实操", None)])
    q = queries.run(con, "review_queue", {"batch": BATCH})
    assert list(q.columns[:7]) == ["request_id", "school_code", "school_name", "ticket_no", "reason", "status", "filed_at"]
    mine = q[q.ticket_no.isin([ta, tb])].set_index("ticket_no")
    assert mine.loc[ta, "school_code"] == a_code and mine.loc[ta, "reason"] == "理论" and mine.loc[ta, "status"] == "已提交"
    names = dict(rows(con, "select school_code, school_name from schools"))
    assert mine.loc[tb, "school_name"] == names[b_code]
    assert set(queries.run(con, "review_queue", {"batch": BATCH}, a.scope).school_code) == {a_code}
    assert queries.run(con, "review_queue", {"batch": "2023-2"}).empty
    aged = reviews.queue_ages(q, reviews.window(con, BATCH), dt.date(2023, 6, 17)).set_index("ticket_no")
    assert (aged.loc[ta, "age_days"], aged.loc[tb, "age_days"]) == (5, 2)
    assert (aged.loc[ta, "days_left"], aged.loc[ta, "days_to_cert"]) == (2, 2)
    with pytest.raises(PermissionError):
        queries.run(con, "review_queue", {"batch": BATCH}, queries.Scope(role="school", school_code=None))


def _review_export(con, n_ok: int = 3) -> tuple[pd.DataFrame, list[str]]:
    code = school_without_requests(con, set())
    tickets = tickets_of(con, code, n_ok)
    frame = pd.DataFrame({
        "考试批次": BATCH,
        "院校代码": code,
        "准考证号": tickets,
        "复核原因": ["理论成绩", "实操", "其它"][:n_ok],
        "说明": ["理论分偏低", "", "考场断电重考"][:n_ok],
        "提交时间": ["2023-06-12 09:10:00", "2023-06-15 16:45:12", "2023-06-18 23:59:00"][:n_ok],
    })
    return frame, tickets


def test_import_review_requests_from_the_platform_export(fresh_db, tmp_path):
    con = fresh_db
    frame, tickets = _review_export(con)
    path = write_frame(frame, tmp_path / "复核申请.xlsx", title="2023年第一次全国统考 成绩复核申请")
    result = import_file(con, "reviews", path, actor="staff")
    assert result.ok and result.written, result.lines()
    assert (result.added, result.requests_created) == (3, 1)
    got = rows(con, "select i.ticket_no, i.reason_type, i.reason_text, i.status, r.source, r.filed_at from review_items i "
                    "join review_requests r using (request_id) where list_contains($t, i.ticket_no) order by i.ticket_no",
               {"t": tickets})
    assert [g[:5] for g in got] == [(tickets[0], "理论", "理论分偏低", "已提交", "import"),
                                    (tickets[1], "实操", None, "已提交", "import"),
                                    (tickets[2], "其他", "考场断电重考", "已提交", "import")]
    assert got[0][5] == dt.datetime(2023, 6, 12, 9, 10)
    q = queries.run(con, "review_queue", {"batch": BATCH}).set_index("ticket_no")
    assert q.loc[tickets[1], "filed_at"] == pd.Timestamp("2023-06-15 16:45:12")
    assert rows(con, "select kind, added, status from import_log where kind = 'reviews'") == [("reviews", 3, "已写入")]
    before = table_snapshot(con)
    again = import_file(con, "reviews", path, actor="staff")
    assert again.ok and (again.added, again.unchanged) == (0, 3)
    after = table_snapshot(con)
    assert {k: v for k, v in after.items() if k not in ("import_log", "audit_log", "id_counters")} == {
        k: v for k, v in before.items() if k not in ("import_log", "audit_log", "id_counters")}


def test_the_import_page_takes_review_files(fresh_db, fresh_db_path, tmp_path, monkeypatch):
    """The 导入 page's own path (views.imports: check, then write, the file read in a child process)
    offers the kind and writes a review export like any other file."""
    from examdash.views import imports

    monkeypatch.setenv("EXAMDASH_DB", str(fresh_db_path))
    monkeypatch.setattr(demo, "published_accounts", lambda con: [])  # as in a store of real data
    assert "reviews" in imports.KIND_LABELS and imports.KIND_LABELS["reviews"].startswith("复核申请")
    con = fresh_db
    frame, tickets = _review_export(con)
    path = write_frame(frame, tmp_path / "复核申请.xlsx", title="成绩复核申请")
    upload = imports.Upload("复核申请.xlsx", path.read_bytes())
    admin = auth.User("admin", "系统管理员", "admin", None)
    quiet = lambda fraction, text: None  # noqa: E731
    checked = imports.check(con, admin, {}, db.data_version(con), upload, "reviews", None, quiet)
    assert checked.ok and not checked.written and checked.added == 3, checked.lines()
    assert rows(con, "select count(*) from review_items where list_contains($t, ticket_no)", {"t": tickets}) == [(0,)]
    written = imports.write(con, admin, upload, "reviews", None, quiet)
    assert written.ok and written.written, written.lines()
    assert rows(con, "select count(*) from review_items where list_contains($t, ticket_no)", {"t": tickets}) == [(3,)]
    assert "复核申请" in set(imports.history(runner(con))["类型"])


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_import_with_one_bad_row_writes_nothing(fresh_db, tmp_path, suffix):
    con = fresh_db
    frame, tickets = _review_export(con)
    other = rows(con, "select ticket_no, school_code from registrations where batch_code = $b and school_code <> $s "
                      "and ticket_no is not null order by ticket_no limit 1", {"b": BATCH, "s": frame["院校代码"][0]})[0]
    bad_rows = [
        {"提交时间": "2023-06-19 08:00:00"},  # late
        {"准考证号": other[0]},  # another school's candidate
        {"复核原因": "态度问题"},
    ]
    for k, change in enumerate(bad_rows):
        f = frame.copy()
        for col, v in change.items():
            f.loc[1, col] = v
        path = write_frame(f, tmp_path / f"复核申请_{k}{suffix}", title="成绩复核申请导出", encoding="gb18030")
        before = table_snapshot(con)
        result = import_file(con, "reviews", path, actor="staff")
        assert not result.ok and not result.written
        assert table_snapshot(con) == before
        # Row 1 is the title, row 2 the header: the second data row is row 4.
        if k == 0:
            find_line(result, 4, "提交时间", "逾期申请不予受理")
        elif k == 1:
            find_line(result, 4, "准考证号", f"不是院校 {frame['院校代码'][0]} 的考生")
        else:
            find_line(result, 4, "复核原因", "应为 理论、实操、总分、缺考误判、其他")
        assert len(result.errors) == 1
        assert "未写入任何数据" in result.summary()


def test_cli_import_exit_codes(fresh_db_path, tmp_path, capsys):
    con = db.connect(fresh_db_path)
    frame, tickets = _review_export(con)
    retire_demo_passwords(con)  # the demo store takes no imports while they are published
    con.close()
    good = write_frame(frame, tmp_path / "ok.csv")
    bad = write_frame(frame.assign(院校代码="NOPE"), tmp_path / "bad.csv")
    run = lambda f: main(["--db", str(fresh_db_path), "import", "reviews", str(f)])  # noqa: E731
    assert run(bad) == 1
    err = capsys.readouterr().err
    assert "bad.csv:2:院校代码: 院校代码「NOPE」不存在" in err
    assert run(tmp_path / "missing.csv") == 2
    assert run(good) == 0
    assert "新增复核项 3" in capsys.readouterr().out
    con = db.connect(fresh_db_path)
    try:
        assert scalar(con, "select count(*) from review_items where list_contains($t, ticket_no)", {"t": tickets}) == 3
    finally:
        con.close()


def test_demo_reviews_are_realistic_and_keep_the_pass_rates(fresh_db):
    con = fresh_db
    before = rows(con, "select school_code, level, count_if(passed)::bigint from results group by all order by all")
    demo.make_reviews(con)
    demo.make_reviews(con)  # a second call changes nothing
    items = rows(con, "select r.school_code, i.status, r.filed_at from review_items i join review_requests r "
                      "using (request_id) where r.batch_code = $b", {"b": BATCH})
    schools = {u.school_code for u in (user(con, f"school{i}") for i in (1, 2, 3))}
    assert {s for s, _, _ in items} == schools
    statuses = [s for _, s, _ in items]
    assert all(statuses.count(s) >= 1 for s in ("已提交", "复核中", "维持", "更正", "驳回"))
    assert all(dt.date(2023, 6, 12) <= f.date() <= dt.date(2023, 6, 14) for _, _, f in items)
    assert scalar(con, "select count(*) from score_versions where source = 'review'") == 1
    assert rows(con, "select school_code, level, count_if(passed)::bigint from results group by all order by all") == before
