"""AppTests of the admin pages (用户, 审计日志, 导入) and the school portal (本校成绩)."""

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from examdash import web
from examdash.domain import auth
from examdash.views import imports

ROOT = Path(__file__).resolve().parent.parent


def _page(path: str, user: auth.User) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=60)
    at.session_state[web.USER_KEY] = user
    at.session_state[web.SEEN_KEY] = time.monotonic()
    return at.run()


ADMIN = auth.User("admin", "系统管理员", "admin", None)


def test_users_page_adds_disables_and_resets(app_env, demo_db_con):
    at = _page("app_pages/users.py", ADMIN)
    assert not at.exception
    shown = at.dataframe[0].value
    assert {"admin", "staff", "school1"} <= set(shown["用户名"])
    at.text_input(key="users_add_username").set_value("zhang.wei")
    at.text_input(key="users_add_display").set_value("张伟")
    at.selectbox(key="users_add_role").set_value("staff")
    at.text_input(key="users_add_password").set_value("Initial-pass1")
    at.button(key="users_add_submit").click().run()
    assert any("已创建账号 zhang.wei" in s.value for s in at.success)
    assert auth.authenticate(demo_db_con, "zhang.wei", "Initial-pass1").role == "staff"
    at.selectbox(key="users_change_target").set_value("zhang.wei").run()
    at.button(key="users_disable").click().run()
    assert auth.reload_user(demo_db_con, "zhang.wei") is None
    at.button(key="users_enable").click().run()
    at.text_input(key="users_reset_password").set_value("Second-pass2")
    at.button(key="users_reset_submit").click().run()
    assert auth.authenticate(demo_db_con, "zhang.wei", "Second-pass2").username == "zhang.wei"
    actions = [r[0] for r in demo_db_con.execute(
        "select action from audit_log where target = 'zhang.wei' and actor = 'admin' order by audit_id").fetchall()]
    assert actions == ["user_add", "user_disable", "user_enable", "user_reset_password"]


def test_users_page_refuses_a_school_account_without_school(app_env):
    at = _page("app_pages/users.py", ADMIN)
    at.text_input(key="users_add_username").set_value("nobody.school")
    at.selectbox(key="users_add_role").set_value("school")
    at.text_input(key="users_add_password").set_value("Initial-pass1")
    at.button(key="users_add_submit").click().run()
    assert any("院校代码" in e.value for e in at.error)


def test_audit_page_lists_and_filters(app_env, demo_db_con):
    at = _page("app_pages/audit.py", ADMIN)
    assert not at.exception
    total = len(at.dataframe[0].value)
    assert total > 0
    at.selectbox(key="audit_action").set_value("import").run()
    filtered = at.dataframe[0].value
    assert 0 < len(filtered) <= total and set(filtered["操作"]) == {"导入"}


def test_import_page_refuses_a_store_with_published_demo_passwords(app_env, demo_db_con):
    at = _page("app_pages/imports.py", ADMIN)
    assert not at.exception
    refusal = " ".join(e.value for e in at.error)
    assert "演示数据库" in refusal and "admin" in refusal and "examdash init" in refusal and "--role admin" in refusal
    assert not at.selectbox and len(at.dataframe) == 1  # no upload, only the import history


def test_import_page_renders_kinds_batches_and_history(app_env, demo_db_con, monkeypatch):
    # AppTest cannot drive st.file_uploader: the upload, check and confirm flow runs in the browser test.
    from examdash import demo

    monkeypatch.setattr(demo, "published_accounts", lambda con: [])  # as in a store of real data
    at = _page("app_pages/imports.py", ADMIN)
    assert not at.exception
    assert set(at.selectbox(key="imports_kind").options) >= {imports.KIND_LABELS["registrations"],
                                                              imports.KIND_LABELS["scores"]}
    assert "2023-1" in at.selectbox(key="imports_batch").options
    history = at.dataframe[-1].value
    logged = demo_db_con.execute("select count(*) from import_log").fetchall()[0][0]
    assert len(history) == min(logged, 500) and {"文件", "新增", "替换", "未变", "SHA-256"} <= set(history.columns)


def test_upload_size_limit_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("EXAMDASH_MAX_UPLOAD_MB", "1")
    message = imports.too_large(imports.Upload("大文件.csv", b"x" * (2 * 1024 * 1024)))
    assert message and "大文件.csv" in message and "上限 1 MB" in message
    assert imports.too_large(imports.Upload("小文件.csv", b"x" * 1000)) is None


def test_school_portal_shows_own_school_beside_province_and_nation(app_env, demo_db_con):
    code = demo_db_con.execute("select school_code from users where username = 'school1'").fetchall()[0][0]
    user = auth.User("school1", "负责人", "school", code, "某校")
    at = _page("app_pages/school.py", user)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    own = demo_db_con.execute(
        "select count(*) from registrations where school_code = $c and batch_code = '2023-1' and status = '正常'",
        {"c": code}).fetchall()[0][0]
    assert metrics["本校报名"] == f"{own:,}"
    comparison = at.dataframe[0].value
    assert {"本校", "全国"} <= set(comparison["范围"].str[:2]) | set(comparison["范围"])
    table = at.dataframe[1].value
    assert len(table) == own and set(table["院校代码"]) == {code}
    assert not table["身份证号"].str.contains(r"\*").any()  # their own candidates, in full
