"""Downloads that check who asks, sessions that end, login input checked before it is written, short
errors, a demo store that takes no real data, and the smaller holes (CLI csv, restore, small peer groups).

The real server's side of the downloads (a click after expiry, after disabling, after a reset) is in
test_browser.py; hostile files are in test_hostile_files.py.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pytest
import streamlit as st
from helpers import ROOT, app_rows, app_scalar, click_download, lake_snapshots, retire_demo_passwords, rows, scalar
from streamlit.testing.v1 import AppTest

from examdash import demo, web
from examdash.domain import auth
from examdash.store import db


def run_page(con, page: str, username: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state[web.USER_KEY] = auth.reload_user(con, username)
    at.session_state[web.SEEN_KEY] = time.monotonic()
    return at.run()


def last_audit(con, action: str) -> tuple:
    """The newest request event of `action` (downloads, logouts, refusals: the application database)."""
    return app_rows(con, "select actor, target, detail from request_events where action = $a order by event_id desc "
                         "limit 1", {"a": action})[0]


# Every page with a download, and who sees it.
DOWNLOAD_PAGES = [("app_pages/scores.py", "staff"), ("app_pages/fees.py", "staff"), ("app_pages/reviews.py", "staff"),
                  ("app_pages/audit.py", "admin"), ("app_pages/school.py", "school1"),
                  ("app_pages/school_fees.py", "school1")]


@pytest.mark.parametrize("page, username", DOWNLOAD_PAGES)
def test_no_page_carries_a_ready_file(private_app, deferred, page, username, monkeypatch):
    """A ready file's URL can be fetched by anyone holding it and leaves no audit row: every download is
    built on click, checked and audited then."""
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")
    at = run_page(private_app, page, username)
    assert not at.exception
    buttons = at.get("download_button")
    assert buttons, f"{page} has no download"
    for b in buttons:
        assert b.proto.deferred_file_id and not b.proto.url, b.key
    first = buttons[0]
    before = app_scalar(private_app, "select count(*) from request_events where action = 'download'")
    if not first.proto.disabled:
        assert click_download(deferred, first)
        assert app_scalar(private_app, "select count(*) from request_events where action = 'download'") == before + 1
        assert last_audit(private_app, "download")[0] == username


def _scores_download(private_app, deferred, unmasked: bool = True):
    at = run_page(private_app, "app_pages/scores.py", "staff")
    if unmasked:
        at.checkbox(key="scores_table_unmasked").check().run()
    button = next(b for b in at.get("download_button") if b.key == "scores_table_download_csv")
    return at, deferred[button.proto.deferred_file_id]


def _refused(private_app, build, reason: str) -> None:
    with pytest.raises(PermissionError, match=reason):
        build()
    actor, target, detail = last_audit(private_app, "download_refused")
    assert actor == "staff" and target.endswith(".csv") and reason in detail


def test_a_download_after_the_idle_timeout_is_refused_and_audited(private_app, deferred):
    at, build = _scores_download(private_app, deferred)
    at.session_state[web.GUARD_KEY].last_seen -= 31 * 60  # half an hour and a minute without a page run
    _refused(private_app, build, "会话已超时")


def test_a_download_after_the_account_is_disabled_is_refused(private_app, deferred):
    _, build = _scores_download(private_app, deferred)
    auth.set_active(private_app, "staff", False, "admin")
    _refused(private_app, build, "账号已停用")


def test_a_download_after_a_password_reset_is_refused_and_the_session_ends(private_app, deferred):
    at, build = _scores_download(private_app, deferred)
    auth.reset_password(private_app, "staff", "Brand-new-pass9", "admin")
    _refused(private_app, build, "账号密码已重置")
    at.run()  # the session's next page run signs it out
    assert "请先登录" in " ".join(w.value for w in at.warning)
    assert at.session_state[web.GUARD_KEY].ended if web.GUARD_KEY in at.session_state else True


def test_a_download_after_logout_is_refused(private_app, deferred):
    at, build = _scores_download(private_app, deferred)
    guard = at.session_state[web.GUARD_KEY]
    guard.ended = "已退出登录"
    _refused(private_app, build, "会话已结束")


def test_full_names_need_staff_when_the_file_is_built(private_app, deferred):
    _, build = _scores_download(private_app, deferred, unmasked=True)
    school = scalar(private_app, "select school_code from schools limit 1")
    with db.transaction(private_app) as cur:  # the account becomes a school leader's meanwhile
        cur.execute("update users set role = 'school', school_code = $s where username = 'staff'", {"s": school})
    _refused(private_app, build, "账号权限已变更")


def test_a_session_that_holds_gets_its_file_and_an_audit_row(private_app, deferred):
    _, build = _scores_download(private_app, deferred)
    data = build()
    assert data.decode("utf-8-sig").splitlines()[0].startswith("考试批次")
    actor, _, detail = last_audit(private_app, "download")
    assert actor == "staff" and '"masked": false' in detail and '"rows":' in detail


def test_a_password_reset_signs_the_open_session_out(private_app):
    at = run_page(private_app, "app_pages/overview.py", "staff")
    assert at.title and "总览" in at.title[0].value
    auth.reset_password(private_app, "staff", "Brand-new-pass9", "admin")
    at.run()
    assert not at.title and "请先登录" in " ".join(w.value for w in at.warning)
    assert app_scalar(private_app, "select count(*) from request_events where action = 'logout' "
                                   "and detail like '%密码已重置%'") == 1


# --- login input, throttling -----------------------------------------------------------------------------


def _writes(con) -> tuple:
    return (scalar(con, "select count(*) from audit_log"), lake_snapshots(con),
            app_scalar(con, "select count(*) from request_events"), app_scalar(con, "select count(*) from throttle"))


@pytest.mark.parametrize("username, password", [("u" * (4 << 20), "whatever1"), ("admin", "p" * 5000),
                                                ("管理员", "whatever1"), ("a b", "whatever1")])
def test_impossible_login_input_is_refused_before_any_write(fresh_db, username, password):
    before = _writes(fresh_db)
    with pytest.raises(auth.AuthError, match="用户名或密码错误"):
        auth.authenticate(fresh_db, username, password, client="203.0.113.9")
    assert _writes(fresh_db) == before


def test_failures_from_one_client_do_not_lock_the_owner_out_elsewhere(fresh_db):
    t0 = dt.datetime(2023, 6, 14, 9, 0)
    for i in range(auth.MAX_FAILURES):
        with pytest.raises(auth.AuthError):
            auth.authenticate(fresh_db, "admin", f"guess-{i}x", client="198.51.100.7", now=t0)
    with pytest.raises(auth.AuthError, match="锁定"):  # the attacker's client is locked out of admin
        auth.authenticate(fresh_db, "admin", demo.DEMO_PASSWORD["admin"], client="198.51.100.7", now=t0)
    # the owner, from a client that has not failed, gets in
    assert auth.authenticate(fresh_db, "admin", demo.DEMO_PASSWORD["admin"], client="192.0.2.20", now=t0).role == "admin"


def test_a_client_walking_through_user_names_is_locked(fresh_db):
    t0 = dt.datetime(2023, 6, 14, 9, 0)
    for i in range(auth.CLIENT_MAX_FAILURES):
        with pytest.raises(auth.AuthError):
            auth.authenticate(fresh_db, f"user{i:03d}", "guess-1x", client="198.51.100.8", now=t0)
    with pytest.raises(auth.AuthError, match="此处登录失败次数过多"):
        auth.authenticate(fresh_db, "staff", demo.DEMO_PASSWORD["staff"], client="198.51.100.8", now=t0)
    assert app_scalar(fresh_db, "select count(*) from throttle where kind = 'login' and key like '%|198.51.100.8'") \
        == auth.CLIENT_MAX_FAILURES
    assert auth.authenticate(fresh_db, "staff", demo.DEMO_PASSWORD["staff"], client="192.0.2.21", now=t0)
    later = t0 + dt.timedelta(minutes=auth.LOCK_MINUTES + 1)
    assert auth.authenticate(fresh_db, "staff", demo.DEMO_PASSWORD["staff"], client="198.51.100.8", now=later)


# --- single sign-on -------------------------------------------------------------------------------------


class _IdP(dict):
    is_logged_in = True


def test_single_sign_on_needs_a_verified_email(private_app, monkeypatch):
    with db.transaction(private_app) as cur:
        cur.execute("update users set email = 'staff@example.edu.cn' where username = 'staff'")
    monkeypatch.setattr(web, "con", lambda: private_app)
    monkeypatch.setattr(st, "user", _IdP(email="staff@example.edu.cn", email_verified=False))
    with pytest.raises(auth.AuthError, match="未经身份提供方验证"):
        web.oidc_user()
    monkeypatch.setattr(st, "user", _IdP(email="staff@example.edu.cn"))  # no claim at all: not vouched for
    with pytest.raises(auth.AuthError):
        web.oidc_user()
    monkeypatch.setattr(st, "user", _IdP(email="staff@example.edu.cn", email_verified=True))
    assert web.oidc_user().username == "staff"


def test_logging_out_of_a_single_sign_on_session_ends_it_at_the_provider_too(private_app, monkeypatch):
    ended = []
    monkeypatch.setattr(st, "logout", lambda: ended.append(True))
    monkeypatch.setattr(web, "con", lambda: private_app)
    monkeypatch.setattr(st, "session_state", {})
    web.sign_in(auth.reload_user(private_app, "staff"), method="oidc")
    web.logout()
    assert ended == [True]
    web.sign_in(auth.reload_user(private_app, "staff"), method="oidc")
    st.session_state[web.SEEN_KEY] -= 31 * 60
    assert web.current_user() is None and ended == [True, True]  # the idle timeout applies to it as well
    web.sign_in(auth.reload_user(private_app, "staff"))
    web.logout()
    assert len(ended) == 2  # a password login has nothing at the provider


# --- errors and server defaults --------------------------------------------------------------------------


def test_an_unexpected_error_shows_an_id_not_a_traceback(app_env, monkeypatch):
    from examdash.views import overview

    def broken(run, batch, today):
        raise RuntimeError("/secret/path/in/the/traceback")

    monkeypatch.setattr(overview, "build", broken)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.text_input(key="login_username").set_value("staff")
    at.text_input(key="login_password").set_value(demo.DEMO_PASSWORD["staff"])
    at.button(key="login_submit").click().run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "错误编号" in shown and "/secret" not in shown and "RuntimeError" not in shown


def test_the_server_config_hides_errors_and_listens_on_loopback():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["allowedHosts"] and "*" not in config["server"]["allowedHosts"]
    assert "enableAgentApi" not in (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")


# --- the demo store takes no real data -------------------------------------------------------------------


def _cli(db_path: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "examdash", "--db", str(db_path), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={k: v for k, v in __import__("os").environ.items() if not k.startswith("EXAMDASH_")})


def test_real_exports_are_refused_by_a_store_with_published_demo_passwords(fresh_db_path, demo_file):
    _, schools, _ = demo_file("schools")
    refused = _cli(fresh_db_path, "import", "schools", schools)
    assert refused.returncode == 1
    assert "演示数据库" in refused.stderr and "admin" in refused.stderr and "examdash init" in refused.stderr
    assert "users add" in refused.stderr
    con = db.connect(fresh_db_path)
    try:
        retire_demo_passwords(con)
    finally:
        con.close()
    done = _cli(fresh_db_path, "import", "schools", schools)
    assert done.returncode == 0, done.stderr


def test_a_store_whose_demo_accounts_are_disabled_takes_imports(fresh_db):
    assert demo.published_accounts(fresh_db) == ["admin", "school1", "school2", "school3", "site1", "staff"]
    for name in ("admin", "staff", "school1", "school2", "school3", "site1"):
        auth.set_active(fresh_db, name, False, "test")
    assert demo.published_accounts(fresh_db) == [] and demo.real_data_refusal(fresh_db, "x") is None


# --- smaller holes ---------------------------------------------------------------------------------------


def test_query_csv_is_formula_safe(fresh_db_path):
    con = db.connect(fresh_db_path)
    try:
        with db.transaction(con) as cur:
            cur.execute("update schools set school_name = '=HYPERLINK(\"http://x\")' where school_code = "
                        "(select min(school_code) from schools)")
    finally:
        con.close()
    out = _cli(fresh_db_path, "query", "filter_options", "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert "'=HYPERLINK" in out.stdout and ",=HYPERLINK" not in out.stdout


@pytest.mark.parametrize("tamper", [
    lambda d: (d / "schema.sql").write_text((d / "schema.sql").read_text() + "COPY users TO '/tmp/stolen.csv';\n"),
    lambda d: (d / "schema.sql").write_text("CREATE TABLE x AS SELECT * FROM read_text('/etc/passwd');\n"
                                            + (d / "schema.sql").read_text()),
    lambda d: (d / "schema.sql").write_text((d / "schema.sql").read_text().replace(
        "CREATE VIEW fee_payments AS SELECT * FROM payments", "CREATE VIEW fee_payments AS SELECT * FROM "
        "read_csv('/etc/passwd') , payments")),
])
def test_a_restore_never_runs_the_backups_schema_sql(fresh_db, tmp_path, tamper):
    """The schema comes from this version's migrations; schema.sql is not read at all."""
    backup = tmp_path / "backup"
    db.backup(fresh_db, backup)
    tamper(backup)
    db.restore(backup, tmp_path / "restored.ducklake")
    con = db.connect(tmp_path / "restored.ducklake", read_only=True)
    try:
        assert not Path("/tmp/stolen.csv").exists()
        assert "x" not in {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        view = scalar(con, "select sql from duckdb_views() where view_name = 'fee_payments'")
        assert "read_csv" not in view
    finally:
        con.close()


def test_a_restore_runs_only_the_copy_lines_a_backup_writes(fresh_db, tmp_path):
    backup = tmp_path / "backup"
    db.backup(fresh_db, backup)
    (backup / "load.sql").write_text((backup / "load.sql").read_text().replace(
        "(FORMAT 'parquet');", "(FORMAT 'parquet'); ATTACH '/tmp/x.db';", 1))
    with pytest.raises(db.DbError, match="load.sql"):
        db.restore(backup, tmp_path / "restored.ducklake")
    assert not (tmp_path / "restored.ducklake").exists() and not Path("/tmp/x.db").exists()


def test_an_untampered_backup_restores(fresh_db, tmp_path):
    db.backup(fresh_db, tmp_path / "backup")
    db.restore(tmp_path / "backup", tmp_path / "restored.ducklake")
    con = db.connect(tmp_path / "restored.ducklake", read_only=True)
    try:
        assert scalar(con, "select count(*) from registrations") == scalar(fresh_db, "select count(*) from registrations")
    finally:
        con.close()


def test_a_province_of_fewer_than_three_schools_is_not_shown_to_a_school(private_app):
    from examdash.store import queries

    me = auth.reload_user(private_app, "school1")
    other = scalar(private_app, "select min(school_code) from results where batch_code = '2023-1' and school_code <> $s",
                   {"s": me.school_code})
    with db.transaction(private_app) as cur:  # a province of two schools: the leader's and one other
        for table in ("schools", "results"):
            cur.execute(f"update {table} set province = '测试省' where list_contains($s, school_code)",
                        {"s": [me.school_code, other]})
        db.bump_version(cur)
    got = queries.run(private_app, "peer_rates_by_level", {"batch": "2023-1", "province": "测试省"})
    assert got.empty  # own figures minus the province's would be the other school's
    nation = queries.run(private_app, "peer_rates_by_level", {"batch": "2023-1", "province": None})
    assert set(nation.level) == {"初级", "中级"} and (nation.schools >= 3).all()
    at = run_page(private_app, "app_pages/school.py", "school1")
    assert not at.exception
    assert any("参考院校不足 3 所" in c.value for c in at.caption)
    compared = next(d.value for d in at.dataframe if "范围" in d.value.columns)
    assert not any(str(r).startswith("本省") for r in compared["范围"])


def test_an_unknown_client_is_never_locked_as_a_whole(fresh_db):
    """Behind a proxy that is not trusted every browser looks alike: locking that one 'client' would lock
    everybody out, so only the per-account lock applies to it."""
    t0 = dt.datetime(2023, 6, 14, 9, 0)
    for i in range(auth.CLIENT_MAX_FAILURES + 1):
        with pytest.raises(auth.AuthError):
            auth.authenticate(fresh_db, f"user{i:03d}", "guess-1x", client=None, now=t0)
    assert auth.authenticate(fresh_db, "staff", demo.DEMO_PASSWORD["staff"], client=None, now=t0)
    assert app_scalar(fresh_db, "select count(*) from throttle where kind = 'login_client'") == 0


@pytest.mark.parametrize("name", ["users; drop table users", 'x" or 1=1 --', "score_versions", "1abc", ""])
def test_sql_identifiers_come_only_from_the_codes_own_lists(name):
    from examdash.importers import links

    with pytest.raises(ValueError):
        db.identifier(name, ("attendance",))
    assert db.identifier("attendance", links.RELINKED) == '"attendance"'
