"""AppTest of the Overview page, driven through the real login form."""


from helpers import ROOT, login
from streamlit.testing.v1 import AppTest

APP = str(ROOT / "app.py")


def test_overview_shows_figures_from_the_warehouse(app_env, demo_db_con):
    at = AppTest.from_file(APP, default_timeout=30).run()
    login(at, "staff")
    assert not at.exception
    assert "总览" in at.title[0].value
    registered = demo_db_con.execute(
        "select count(*) from registrations where batch_code = '2023-1' and status = '正常'"
    ).fetchall()[0][0]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["报名人数"] == f"{registered:,}"
    assert "2023-06-14" in at.caption[0].value and "成绩公示" in at.caption[0].value


def test_overview_batch_filter_changes_figures(app_env, demo_db_con):
    at = AppTest.from_file(APP, default_timeout=30).run()
    login(at, "staff")
    at.selectbox(key="filters_batch").set_value("2023-2").run()
    registered = demo_db_con.execute(
        "select count(*) from registrations where batch_code = '2023-2' and status = '正常'"
    ).fetchall()[0][0]
    assert {m.label: m.value for m in at.metric}["报名人数"] == f"{registered:,}"
    assert at.query_params["batch"] == ["2023-2"] or at.query_params["batch"] == "2023-2"


def test_overview_says_what_is_next_for_every_running_batch(app_env):
    at = AppTest.from_file(APP, default_timeout=30).run()
    login(at, "staff")
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    # the demo's day, 2023-06-14: 2023-1 in its publicity week, 2023-2 two days before its exam
    assert "当前阶段：成绩公示" in text and "成绩公示结束：2023-06-18（还有 4 天）" in text
    assert "考试日：2023-06-16（还有 2 天）" in text
    assert "【院校】查询本校考生成绩" in text and "【考点】考点院校登录教育部 1+X 证书平台下载准考证" in text
