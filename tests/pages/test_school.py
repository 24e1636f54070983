"""AppTests of the admin pages (用户, 审计日志, 导入) and the school portal (本校成绩)."""


from helpers import page_as

from examdash.domain import auth


def test_school_portal_shows_own_school_beside_province_and_nation(app_env, demo_db_con):
    code = demo_db_con.execute("select school_code from users where username = 'school1'").fetchall()[0][0]
    user = auth.User("school1", "负责人", "school", code, "某校")
    at = page_as("app_pages/school.py", user)
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
