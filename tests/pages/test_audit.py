"""AppTests of the admin pages (用户, 审计日志, 导入) and the school portal (本校成绩)."""


from helpers import page_as

from examdash.domain import auth

ADMIN = auth.User("admin", "系统管理员", "admin", None)


def test_audit_page_lists_and_filters(app_env, demo_db_con):
    at = page_as("app_pages/audit.py", ADMIN)
    assert not at.exception
    total = len(at.dataframe[0].value)
    assert total > 0
    at.selectbox(key="audit_action").set_value("import").run()
    filtered = at.dataframe[0].value
    assert 0 < len(filtered) <= total and set(filtered["操作"]) == {"导入"}
