"""AppTests of the admin pages (用户, 审计日志, 导入) and the school portal (本校成绩)."""


from helpers import page_as

from examdash.domain import auth

ADMIN = auth.User("admin", "系统管理员", "admin", None)


def test_users_page_adds_disables_and_resets(app_env, demo_db_con):
    at = page_as("app_pages/users.py", ADMIN)
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
    at = page_as("app_pages/users.py", ADMIN)
    at.text_input(key="users_add_username").set_value("nobody.school")
    at.selectbox(key="users_add_role").set_value("school")
    at.text_input(key="users_add_password").set_value("Initial-pass1")
    at.button(key="users_add_submit").click().run()
    assert any("院校代码" in e.value for e in at.error)
