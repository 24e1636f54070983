"""Web sessions (examdash.domain.sessions): opened at login for the browser's token, found by any tab,
ended by logout, a password reset, disabling the account, or the idle timeout. The token is stored only
as its hash."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import app_rows, app_scalar, lake_snapshots

from examdash.domain import auth, sessions
from examdash.store import appdb, db

TOKEN = sessions.new_token()


def test_a_login_is_found_by_the_token_and_stored_only_as_its_hash(fresh_db):
    sid = sessions.open_session(fresh_db, TOKEN, "staff", 0, "password")
    assert sessions.find(fresh_db, TOKEN) == (sid, "staff", 0, "password")
    stored = app_rows(fresh_db, "select token_hash from web_sessions")
    assert stored == [(sessions.token_hash(TOKEN),)] and TOKEN not in stored[0][0]
    assert sessions.find(fresh_db, sessions.new_token()) is None


@pytest.mark.parametrize("token", [None, "", "short", "x" * 43 + "!", "ä" * 43, 12345])
def test_a_malformed_token_finds_nothing_and_opens_nothing(fresh_db, token):
    assert sessions.find(fresh_db, token) is None
    with pytest.raises(ValueError):
        sessions.open_session(fresh_db, token, "staff", 0, "password")
    assert app_scalar(fresh_db, "select count(*) from web_sessions") == 0


def test_logout_ends_it_and_a_new_login_in_the_same_browser_opens_another(fresh_db):
    first = sessions.open_session(fresh_db, TOKEN, "staff", 0, "password")
    sessions.revoke(fresh_db, first, "已退出登录")
    assert sessions.find(fresh_db, TOKEN) is None
    second = sessions.open_session(fresh_db, TOKEN, "admin", 0, "password")
    assert second != first and sessions.find(fresh_db, TOKEN)[:2] == (second, "admin")
    third = sessions.open_session(fresh_db, TOKEN, "staff", 0, "password")  # a login over an open one closes it
    assert app_rows(fresh_db, "select session_id, revoked_reason from web_sessions where revoked_at is not null "
                              "order by session_id") == [(first, "已退出登录"), (second, "重新登录")]
    assert sessions.find(fresh_db, TOKEN)[0] == third


@pytest.mark.parametrize("change, reason", [
    (lambda con: auth.reset_password(con, "staff", "Brand-new-pass9", "admin"), "账号密码已重置"),
    (lambda con: auth.set_active(con, "staff", False, "admin"), "账号已停用"),
])
def test_a_password_reset_or_disabling_ends_every_session_of_the_account(fresh_db, change, reason):
    other = sessions.new_token()
    sessions.open_session(fresh_db, TOKEN, "staff", 0, "password")
    sessions.open_session(fresh_db, other, "staff", 0, "password")
    admin = sessions.open_session(fresh_db, sessions.new_token(), "admin", 0, "password")
    change(fresh_db)
    assert sessions.find(fresh_db, TOKEN) is None and sessions.find(fresh_db, other) is None
    assert app_rows(fresh_db, "select distinct revoked_reason from web_sessions where username = 'staff'") == [(reason,)]
    assert app_rows(fresh_db, "select revoked_at from web_sessions where session_id = $s", {"s": admin}) == [(None,)]


def test_idle_sessions_expire_and_use_moves_the_expiry_at_most_once_a_minute(fresh_db, monkeypatch):
    monkeypatch.setenv("EXAMDASH_SESSION_MINUTES", "30")
    sid = sessions.open_session(fresh_db, TOKEN, "staff", 0, "password")
    (seen, expires), = app_rows(fresh_db, "select last_seen, expires_at from web_sessions")
    assert expires - seen == dt.timedelta(minutes=30)
    sessions.touch(fresh_db, sid, seen, seen + dt.timedelta(seconds=30))  # too soon: no write
    assert app_rows(fresh_db, "select last_seen from web_sessions") == [(seen,)]
    later = seen + dt.timedelta(minutes=5)
    sessions.touch(fresh_db, sid, seen, later)
    assert app_rows(fresh_db, "select last_seen, expires_at from web_sessions") == [(later, later + dt.timedelta(minutes=30))]
    with db.app(fresh_db).transaction() as run:  # idle past the timeout
        run("update web_sessions set expires_at = :t", {"t": appdb.stamp(db.clock(fresh_db) - dt.timedelta(seconds=1))})
    assert sessions.find(fresh_db, TOKEN) is None


def test_a_restored_backup_brings_no_login_back_and_new_logins_go_on(fresh_db_path, tmp_path):
    con = db.connect(fresh_db_path)
    first = sessions.open_session(con, TOKEN, "staff", 0, "password")
    db.backup(con, tmp_path / "backup")
    con.close()
    db.restore(tmp_path / "backup", fresh_db_path)
    con = db.connect(fresh_db_path)
    try:
        assert sessions.find(con, TOKEN) is None
        assert app_rows(con, "select session_id, revoked_reason from web_sessions") == [(first, "数据库已从备份恢复")]
        assert sessions.open_session(con, TOKEN, "staff", 0, "password") > first
    finally:
        con.close()


def test_logins_touches_and_logouts_add_no_lake_snapshot(fresh_db):
    before = lake_snapshots(fresh_db)
    sid = sessions.open_session(fresh_db, TOKEN, "staff", 0, "password")
    seen = app_rows(fresh_db, "select last_seen from web_sessions")[0][0]
    sessions.touch(fresh_db, sid, seen, seen + dt.timedelta(minutes=5))
    sessions.find(fresh_db, TOKEN)
    sessions.revoke(fresh_db, sid, "已退出登录")
    assert lake_snapshots(fresh_db) == before


def test_a_page_runs_state_is_read_from_the_lake_only_when_the_lake_changed(fresh_db):
    """Sessions come and go in the application database; the lake's part of the state is kept until a
    lake commit (here an account change) moves the catalog."""
    first = db.lake_state(fresh_db)
    sid = sessions.open_session(fresh_db, TOKEN, "staff", 0, "password")
    assert db.lake_state(fresh_db) is first  # no lake commit: the same object, not re-read
    state = db.run_state(fresh_db, sid)
    assert (state.session_user, state.data_version) == ("staff", first.data_version)
    auth.set_active(fresh_db, "staff", False, "admin")
    after = db.lake_state(fresh_db)
    assert after is not first and after.accounts != first.accounts
    assert db.run_state(fresh_db, sid).session_revoked_reason == "账号已停用"
