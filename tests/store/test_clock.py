"""One clock: with "today" pinned, every timestamp the app writes or shows is on the pinned day.

The demo pins 2023-06-14 (inside the 2023-1 publicity window); EXAMDASH_TODAY pins any day.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import app_scalar, rows, scalar

from examdash import demo
from examdash.domain import auth, reviews
from examdash.store import db
from examdash.views.fees import statement_frames

# Every timestamp column the app writes.
STAMPS = [("audit_log", "event_at"), ("import_log", "imported_at"), ("users", "created_at"),
          ("score_versions", "created_at"), ("review_requests", "filed_at"),
          ("review_items", "decided_at"), ("review_item_events", "event_at"), ("signoffs", "signed_at"),
          ("payment_assignments", "assigned_at")]
# ... and of the application database (sessions, throttles, request events), on the same clock.
APP_STAMPS = [("request_events", "event_at"), ("web_sessions", "created_at"), ("throttle", "last_at")]


def test_the_demo_database_lives_on_its_pinned_day(demo_db_path):
    con = db.connect(demo_db_path, read_only=True)
    try:
        assert db.today(con) == dt.date.fromisoformat(demo.DEMO_TODAY)
        pinned = dt.date.fromisoformat(demo.DEMO_TODAY)
        for table, column in STAMPS:
            # Identifiers from the list above.
            latest = scalar(con, f"select max({column})::date from {table}")
            assert latest is None or latest <= pinned, f"{table}.{column}: {latest} after the pinned day {pinned}"
        assert scalar(con, "select min(imported_at)::date from import_log") == pinned
        for table, column in APP_STAMPS:
            latest = app_scalar(con, f"select max({column}) from {table}")
            assert latest is None or latest.date() <= pinned, f"{table}.{column}: {latest} after the pinned day {pinned}"
    finally:
        con.close()


def test_the_pinned_day_moves_date_and_time_together(fresh_db, monkeypatch):
    monkeypatch.delenv("EXAMDASH_TODAY", raising=False)
    con_unpinned = db.now(None)  # no database, no variable: the real clock
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-15")
    now = db.now(fresh_db)
    assert now.date() == dt.date(2023, 6, 15)
    # The time of day is the real one (Asia/Shanghai), taken a moment later.
    gap = (dt.datetime.combine(dt.date.min, now.time()) - dt.datetime.combine(dt.date.min, con_unpinned.time()))
    assert gap % dt.timedelta(days=1) < dt.timedelta(seconds=5)  # modulo a day: the real clock may pass midnight
    assert con_unpinned.year > 2023


def test_every_write_on_a_pinned_day_is_stamped_on_that_day(fresh_db, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-15")
    day = dt.date(2023, 6, 15)
    staff = auth.reload_user(fresh_db, "staff")
    item = scalar(fresh_db, "select item_id from review_items where status in ('已提交', '复核中') order by item_id limit 1")
    ticket = scalar(fresh_db, "select ticket_no from review_items where item_id = $i", {"i": item})
    theory, practical = rows(fresh_db, "select theory, practical from results where ticket_no = $t and batch_code = '2023-1'",
                             {"t": ticket})[0]
    new_practical = float(practical) + 1 if float(practical) < 100 else float(practical) - 1
    mark = scalar(fresh_db, "select max(audit_id) from audit_log")
    reviews.decide(fresh_db, staff, item, "更正", "核对评分记录后更正", theory=theory, practical=new_practical)
    auth.authenticate(fresh_db, "staff", demo.DEMO_PASSWORD["staff"])
    assert scalar(fresh_db, "select decided_at::date from review_items where item_id = $i", {"i": item}) == day
    assert scalar(fresh_db, "select max(created_at)::date from score_versions where ticket_no = $t", {"t": ticket}) == day
    assert app_scalar(fresh_db, "select max(event_at) from request_events where action = 'login'").date() == day
    stamped = {r[0] for r in rows(fresh_db, "select event_at::date from audit_log where audit_id > $m", {"m": mark})}
    assert stamped == {day}


def test_a_statement_says_when_it_was_made_on_the_apps_clock(fresh_db, monkeypatch):
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-15")
    code = scalar(fresh_db, "select school_code from registrations order by school_code limit 1")
    summary = statement_frames(fresh_db, code)["汇总"]
    made = summary.loc[summary["项目"] == "生成时间", "内容"].iat[0]
    assert made.startswith("2023-06-15 "), made


@pytest.mark.parametrize("day", ["2023-06-14", "2024-01-01"])
def test_today_follows_the_pin(fresh_db, monkeypatch, day):
    monkeypatch.setenv("EXAMDASH_TODAY", day)
    assert db.today(fresh_db) == dt.date.fromisoformat(day) == db.now(fresh_db).date()
