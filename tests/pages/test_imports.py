"""AppTests of the admin pages (用户, 审计日志, 导入) and the school portal (本校成绩)."""


from helpers import page_as

from examdash.domain import auth
from examdash.views import imports

ADMIN = auth.User("admin", "系统管理员", "admin", None)


def test_import_page_refuses_a_store_with_published_demo_passwords(app_env, demo_db_con):
    at = page_as("app_pages/imports.py", ADMIN)
    assert not at.exception
    refusal = " ".join(e.value for e in at.error)
    assert "演示数据库" in refusal and "admin" in refusal and "examdash init" in refusal and "--role admin" in refusal
    assert not at.selectbox and len(at.dataframe) == 1  # no upload, only the import history


def test_import_page_renders_kinds_batches_and_history(app_env, demo_db_con, monkeypatch):
    # AppTest cannot drive st.file_uploader: the upload, check and confirm flow runs in the browser test.
    from examdash import demo

    monkeypatch.setattr(demo, "published_accounts", lambda con: [])  # as in a store of real data
    at = page_as("app_pages/imports.py", ADMIN)
    assert not at.exception
    assert set(at.selectbox(key="imports_kind").options) == set(imports.KIND_LABELS.values())
    assert imports.KIND_LABELS["reviews"] in at.selectbox(key="imports_kind").options
    assert "2023-1" in at.selectbox(key="imports_batch").options
    history = at.dataframe[-1].value
    logged = demo_db_con.execute("select count(*) from import_log").fetchall()[0][0]
    assert len(history) == min(logged, 500) and {"文件", "新增", "替换", "未变", "SHA-256"} <= set(history.columns)


def test_upload_size_limit_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("EXAMDASH_MAX_UPLOAD_MB", "1")
    message = imports.too_large(imports.Upload("大文件.csv", b"x" * (2 * 1024 * 1024)))
    assert message and "大文件.csv" in message and "上限 1 MB" in message
    assert imports.too_large(imports.Upload("小文件.csv", b"x" * 1000)) is None
