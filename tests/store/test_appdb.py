"""The application database (examdash/store/appdb.py): what every request writes (web sessions, throttles,
request events) lives beside the lake — an SQLite file in WAL mode, private to its owner, or a schema of the
PostgreSQL server that holds the catalog — and writing it never makes a lake snapshot nor makes a page run
read the lake's state again. A kill -9 between a lake write and its request event loses neither the data
nor its audit row."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import stat
import threading

import pytest
from helpers import app_rows, app_scalar, lake_snapshots, rows, scalar

from examdash.domain import auth, sessions
from examdash.store import appdb, db, lake


def test_it_is_created_beside_the_lake_private_and_in_wal_mode(fresh_db, fresh_db_path):
    app = db.app(fresh_db)
    app.record(db.clock(fresh_db), "tester", "probe")
    path = appdb.sqlite_path(str(fresh_db_path.resolve()))
    assert app.target == str(path) and path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert app.rows("pragma journal_mode") == [("wal",)]
    assert app_rows(fresh_db, "select actor, action from request_events") == [("tester", "probe")]


def test_a_key_is_made_once_and_a_lease_goes_to_one_caller(fresh_db):
    app = db.app(fresh_db)
    assert app.secret("k") == app.secret("k") != app.secret("other")
    now, every = dt.datetime(2023, 6, 14, 9), dt.timedelta(hours=1)
    won = []
    threads = [threading.Thread(target=lambda: won.append(app.claim("job", now, every))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False] * 7 + [True]
    assert not app.claim("job", now + dt.timedelta(minutes=59), every)
    assert app.claim("job", now + every, every)


def test_request_writes_add_no_snapshot_and_keep_the_lake_state(fresh_db):
    before, state = lake_snapshots(fresh_db), db.lake_state(fresh_db)
    token = sessions.new_token()
    sid = sessions.open_session(fresh_db, token, "staff", 0, "password")
    for _ in range(20):
        db.event(fresh_db, "staff", "download", "x.csv")
    with pytest.raises(auth.AuthError):
        auth.authenticate(fresh_db, "staff", "wrong-pass1", client="10.8.0.1")
    sessions.revoke(fresh_db, sid, "已退出登录")
    assert lake_snapshots(fresh_db) == before
    assert db.lake_state(fresh_db) is state  # nothing moved the lake: the state was not read again
    assert app_scalar(fresh_db, "select count(*) from request_events where action = 'download'") == 20


def _write_then_die(path: str, ready) -> None:
    """A lake write with its audit row, then stop before the request's own event (the parent kills us)."""
    con = db.connect(path)
    auth.set_active(con, "staff", False, "admin")  # a lake transaction: the account and its audit row
    ready.set()
    threading.Event().wait(60)  # never woken: killed here
    db.event(con, "admin", "after_the_write")  # never reached


def test_kill_9_between_a_lake_write_and_its_request_event_loses_neither_the_data_nor_its_audit(fresh_db_path):
    # Only the child sets the shared event: a process killed while it waits on a multiprocessing Event would
    # leave the parent's set() waiting for it forever.
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_write_then_die, args=(str(fresh_db_path), ready))
    child.start()
    try:
        assert ready.wait(120)
    finally:
        os.kill(child.pid, 9)
        child.join(30)
    con = db.connect(fresh_db_path)
    try:
        assert rows(con, "select active from users where username = 'staff'") == [(False,)]
        assert scalar(con, "select count(*) from audit_log where action = 'user_disable' and target = 'staff'") == 1
        assert app_rows(con, "select count(*) from request_events where action = 'after_the_write'") == [(0,)]
        db.event(con, "admin", "still_writable")  # the application database is whole and takes writes
        assert app_rows(con, "select action from request_events") == [("still_writable",)]
    finally:
        con.close()


def test_on_a_postgresql_catalog_it_is_a_schema_of_the_same_database(postgres_db):
    con = db.connect(postgres_db)
    try:
        assert db.store_of(con).kind == "postgres"
        auth.create_user(con, "pguser", "PG", "staff", "Correct-horse1")
        state = db.lake_state(con)
        stamp = db.change_stamp(con)
        before = lake_snapshots(con)
        token = sessions.new_token()
        sid = sessions.open_session(con, token, "pguser", 0, "password")
        assert sessions.find(con, token) == (sid, "pguser", 0, "password")
        assert auth.authenticate(con, "pguser", "Correct-horse1", client="10.7.0.1").username == "pguser"
        assert db.change_stamp(con) == stamp and db.lake_state(con) is state and lake_snapshots(con) == before
        schemas = db.app(con).rows("select table_schema from information_schema.tables where table_name = 'web_sessions'")
        assert schemas == [(appdb.SCHEMA,)]
        auth.set_active(con, "pguser", False, "admin")  # a lake commit: the snapshot id moves, the state is read again
        assert db.change_stamp(con) != stamp and db.lake_state(con).accounts != state.accounts
        assert db.run_state(con, sid).session_revoked_reason == "账号已停用"
    finally:
        con.close()


def test_a_backup_made_before_the_move_still_restores(fresh_db, tmp_path):
    """A backup of an earlier version holds web_sessions and the throttle tables: they are passed over."""
    db.backup(fresh_db, tmp_path / "b")
    load = (tmp_path / "b" / "load.sql").read_text(encoding="utf-8")
    old = tmp_path / "b" / "web_sessions.parquet"
    fresh_db.execute(f"copy (select 1 as session_id) to '{old}' (format parquet)")
    (tmp_path / "b" / "load.sql").write_text(load + f"COPY web_sessions FROM '{old}' (FORMAT 'parquet');\n",
                                             encoding="utf-8")
    restored = tmp_path / "r.ducklake"
    counts = db.restore(tmp_path / "b", restored)
    assert "web_sessions" not in counts and counts["users"] > 0
    assert lake.resolve(restored).kind == "sqlite"
