"""Web sessions (examdash.domain.sessions): opened at login for the browser's token, found by any tab,
ended by logout, a password reset, disabling the account, or the idle timeout. The token is stored only
as its hash."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import rows, scalar

from examdash.domain import auth, sessions
from examdash.store import db

TOKEN = sessions.new_token()


def test_a_login_is_found_by_the_token_and_stored_only_as_its_hash(fresh_db):
    sid = sessions.open_session(fresh_db, TOKEN, "staff", 0, "password")
    assert sessions.find(fresh_db, TOKEN) == (sid, "staff", 0, "password")
    stored = rows(fresh_db, "select token_hash from web_sessions")
    assert stored == [(sessions.token_hash(TOKEN),)] and TOKEN not in stored[0][0]
    assert sessions.find(fresh_db, sessions.new_token()) is None


@pytest.mark.parametrize("token", [None, "", "short", "x" * 43 + "!", "ä" * 43, 12345])
def test_a_malformed_token_finds_nothing_and_opens_nothing(fresh_db, token):
    assert sessions.find(fresh_db, token) is None
    with pytest.raises(ValueError):
        sessions.open_session(fresh_db, token, "staff", 0, "password")
    assert scalar(fresh_db, "select count(*) from web_sessions") == 0


def test_logout_ends_it_and_a_new_login_in_the_same_browser_opens_another(fresh_db):
    first = sessions.open_session(fresh_db, TOKEN, "staff", 0, "password")
    sessions.revoke(fresh_db, first, "已退出登录")
    assert sessions.find(fresh_db, TOKEN) is None
    second = sessions.open_session(fresh_db, TOKEN, "admin", 0, "password")
    assert second != first and sessions.find(fresh_db, TOKEN)[:2] == (second, "admin")
    third = sessions.open_session(fresh_db, TOKEN, "staff", 0, "password")  # a login over an open one closes it
    assert rows(fresh_db, "select session_id, revoked_reason from web_sessions where revoked_at is not null "
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
    assert rows(fresh_db, "select distinct revoked_reason from web_sessions where username = 'staff'") == [(reason,)]
    assert rows(fresh_db, "select revoked_at from web_sessions where session_id = $s", {"s": admin}) == [(None,)]


def test_idle_sessions_expire_and_use_moves_the_expiry_at_most_once_a_minute(fresh_db, monkeypatch):
    monkeypatch.setenv("EXAMDASH_SESSION_MINUTES", "30")
    sid = sessions.open_session(fresh_db, TOKEN, "staff", 0, "password")
    (seen, expires), = rows(fresh_db, "select last_seen, expires_at from web_sessions")
    assert expires - seen == dt.timedelta(minutes=30)
    sessions.touch(fresh_db, sid, seen, seen + dt.timedelta(seconds=30))  # too soon: no write
    assert rows(fresh_db, "select last_seen from web_sessions") == [(seen,)]
    later = seen + dt.timedelta(minutes=5)
    sessions.touch(fresh_db, sid, seen, later)
    assert rows(fresh_db, "select last_seen, expires_at from web_sessions") == [(later, later + dt.timedelta(minutes=30))]
    with db.transaction(fresh_db) as cur:  # idle past the timeout
        cur.execute("update web_sessions set expires_at = $t", {"t": db.now(cur) - dt.timedelta(seconds=1)})
    assert sessions.find(fresh_db, TOKEN) is None


def test_a_restored_backup_brings_no_login_back_and_new_logins_go_on(fresh_db_path, tmp_path):
    con = db.connect(fresh_db_path)
    first = sessions.open_session(con, TOKEN, "staff", 0, "password")
    db.backup(con, tmp_path / "backup")
    con.close()
    restored = tmp_path / "restored.ducklake"
    db.restore(tmp_path / "backup", restored)
    con = db.connect(restored)
    try:
        assert sessions.find(con, TOKEN) is None
        assert rows(con, "select session_id, revoked_reason from web_sessions") == [(first, "数据库已从备份恢复")]
        assert sessions.open_session(con, TOKEN, "staff", 0, "password") > first
    finally:
        con.close()
