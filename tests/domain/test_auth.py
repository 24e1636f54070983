"""Accounts: hashes, throttling, lock-out, audit."""

import datetime as dt

import pytest
from helpers import ROOT, app_rows, copy_db, lake_snapshots

from examdash.domain import auth
from examdash.store import db


def test_hash_is_not_the_password_and_differs_for_equal_passwords():
    a, b = auth.hash_password("Secret-123"), auth.hash_password("Secret-123")
    assert "Secret-123" not in a and a != b
    assert a.startswith("$argon2id$")


def test_stored_hash_is_never_the_password(fresh_db):
    auth.create_user(fresh_db, "alice", "Alice", "staff", "Correct-horse1")
    stored = fresh_db.execute("select password_hash from users where username = 'alice'").fetchall()[0][0]
    assert stored != "Correct-horse1" and "Correct-horse1" not in stored


def test_login_ok_and_wrong_password(fresh_db):
    auth.create_user(fresh_db, "bob", "Bob", "staff", "Correct-horse1")
    user = auth.authenticate(fresh_db, "bob", "Correct-horse1")
    assert user.role == "staff" and user.school_code is None
    with pytest.raises(auth.AuthError, match="用户名或密码错误"):
        auth.authenticate(fresh_db, "bob", "wrong-password1")


def test_six_wrong_passwords_lock_the_account_and_are_logged(fresh_db):
    auth.create_user(fresh_db, "carol", "Carol", "staff", "Correct-horse1")
    t0 = dt.datetime(2023, 6, 14, 9, 0)
    for i in range(5):
        with pytest.raises(auth.AuthError):
            auth.authenticate(fresh_db, "carol", f"wrong-{i}", now=t0 + dt.timedelta(seconds=i))
    # the sixth attempt is refused even with the right password
    with pytest.raises(auth.AuthError, match="锁定"):
        auth.authenticate(fresh_db, "carol", "Correct-horse1", now=t0 + dt.timedelta(minutes=1))
    actions = [r[0] for r in app_rows(fresh_db, "select action from request_events where target = 'carol' order by event_id")]
    assert actions.count("login_failed") == 5 and actions[-1] == "login_refused_locked"
    # after the lock expires the right password works again
    assert auth.authenticate(fresh_db, "carol", "Correct-horse1", now=t0 + dt.timedelta(minutes=20)).username == "carol"


def test_logins_and_failed_logins_write_request_events_and_no_lake_snapshot(fresh_db):
    auth.create_user(fresh_db, "ola", "Ola", "staff", "Correct-horse1")
    before = lake_snapshots(fresh_db)
    for _ in range(3):
        auth.authenticate(fresh_db, "ola", "Correct-horse1", client="10.9.0.1")
        with pytest.raises(auth.AuthError):
            auth.authenticate(fresh_db, "ola", "wrong-pass1", client="10.9.0.1")
    assert lake_snapshots(fresh_db) == before
    events = app_rows(fresh_db, "select action, actor from request_events where target = 'ola' order by event_id")
    assert events == [("login", "ola"), ("login_failed", "ola")] * 3
    # the users page's 最近登录 is the newest login event
    assert auth.list_users(fresh_db).set_index("用户名").loc["ola", "最近登录"] == app_rows(
        fresh_db, "select max(event_at) from request_events where action = 'login' and actor = 'ola'")[0][0]


def test_unknown_user_is_throttled_too(fresh_db):
    for i in range(5):
        with pytest.raises(auth.AuthError, match="用户名或密码错误"):
            auth.authenticate(fresh_db, "nobody", "x1234567")
    with pytest.raises(auth.AuthError, match="锁定"):
        auth.authenticate(fresh_db, "nobody", "x1234567")


def test_disabled_account_cannot_log_in(fresh_db):
    auth.create_user(fresh_db, "dave", "Dave", "staff", "Correct-horse1")
    auth.set_active(fresh_db, "dave", False, "test")
    with pytest.raises(auth.AuthError):
        auth.authenticate(fresh_db, "dave", "Correct-horse1")
    assert auth.reload_user(fresh_db, "dave") is None


def test_account_rules(fresh_db):
    with pytest.raises(auth.AuthError, match="院校代码"):
        auth.create_user(fresh_db, "sch", "S", "school", "Correct-horse1")
    with pytest.raises(auth.AuthError, match="不存在"):
        auth.create_user(fresh_db, "sch", "S", "school", "Correct-horse1", school_code="NOPE")
    with pytest.raises(auth.AuthError, match="至少"):
        auth.create_user(fresh_db, "short", "S", "staff", "abc1")
    with pytest.raises(auth.AuthError, match="角色"):
        auth.create_user(fresh_db, "root", "R", "superuser", "Correct-horse1")
    auth.create_user(fresh_db, "eve", "Eve", "staff", "Correct-horse1")
    with pytest.raises(auth.AuthError, match="已存在"):
        auth.create_user(fresh_db, "eve", "Eve", "staff", "Correct-horse1")


def test_every_account_change_is_audited(fresh_db):
    before = fresh_db.execute("select count(*) from audit_log").fetchall()[0][0]
    auth.create_user(fresh_db, "frank", "Frank", "staff", "Correct-horse1", actor="admin")
    auth.reset_password(fresh_db, "frank", "Another-pass2", "admin")
    auth.set_active(fresh_db, "frank", False, "admin")
    rows = fresh_db.execute(
        "select actor, action from audit_log where target = 'frank' order by audit_id").fetchall()
    assert rows == [("admin", "user_add"), ("admin", "user_reset_password"), ("admin", "user_disable")]
    assert fresh_db.execute("select count(*) from audit_log").fetchall()[0][0] == before + 3


def test_scope_comes_from_the_identity():
    s = auth.scope_for(auth.User("s", "S", "school", "12345"))
    assert s.is_school and s.school_code == "12345"
    assert auth.scope_for(auth.User("a", "A", "staff", "12345")).school_code is None


def test_cli_users_reads_password_from_stdin_not_argv(demo_db_path, tmp_path):
    import subprocess
    import sys

    path = copy_db(demo_db_path, tmp_path / "u.ducklake")
    root = ROOT
    run = lambda *a, inp=None: subprocess.run([sys.executable, "-m", "examdash", "--db", str(path), "users", *a],
                                             input=inp, capture_output=True, text=True, cwd=root)
    r = run("add", "gina", "--role", "staff", "--name", "Gina", "--password-stdin", inp="Strong-pass9\n")
    assert r.returncode == 0, r.stderr
    r = run("add", "hank", "--role", "school", "--password-stdin", inp="Strong-pass9\n")
    assert r.returncode == 1 and "院校代码" in r.stderr
    r = run("list")
    assert "gina" in r.stdout and "Strong-pass9" not in r.stdout
    con = db.connect(path)
    assert auth.authenticate(con, "gina", "Strong-pass9").role == "staff"
    con.close()
    r = run("add", "ivan", "--role", "staff", "--password", "x")
    assert r.returncode == 2


def test_a_password_reset_clears_only_that_accounts_login_locks(fresh_db):
    """User names may hold "_": the reset must not clear the locks of a name it matches as a pattern."""
    t0 = dt.datetime(2023, 6, 14, 9, 0)
    for name in ("a_b", "axb"):
        auth.create_user(fresh_db, name, name, "staff", "Correct-horse1")
        for i in range(auth.MAX_FAILURES):
            with pytest.raises(auth.AuthError):
                auth.authenticate(fresh_db, name, f"wrong-{i}x", client="10.6.0.1", now=t0)
    auth.reset_password(fresh_db, "a_b", "Another-pass2", "admin")
    assert auth.authenticate(fresh_db, "a_b", "Another-pass2", client="10.6.0.1", now=t0).username == "a_b"
    with pytest.raises(auth.AuthError, match="锁定"):
        auth.authenticate(fresh_db, "axb", "Correct-horse1", client="10.6.0.1", now=t0)
