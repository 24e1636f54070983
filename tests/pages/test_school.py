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


def test_the_school_home_says_what_is_next_even_before_the_exam(app_env, demo_db_con):
    at = page_as("school", "school1", demo_db_con, batch="2023-2")
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "考试日：2023-06-16（还有 2 天）" in text and "查询本校考生成绩，有异议的在公示期内提交成绩复核申请" in text
    assert "【" not in text  # only the school's own to-dos, without the audience labels
    assert any("没有需要您办理的事项" in c.value for c in at.caption)  # 2023-2: downloading materials is the sites' work


def test_the_school_lists_its_own_absent_and_irregular_candidates_in_full(app_env, demo_db_con):
    me = auth.reload_user(demo_db_con, "school1")
    at = page_as("school", me)
    assert not at.exception
    listed = next(d.value for d in at.dataframe if "考勤情况" in d.value.columns)
    assert len(listed) and set(listed["院校代码"]) == {me.school_code}
    want = demo_db_con.execute(
        "select count(*) from results where batch_code = '2023-1' and school_code = $c and "
        "(attendance_status in ('缺考', '违纪') or (attendance_status is null and score_version is not null and not sat))",
        {"c": me.school_code}).fetchall()[0][0]
    assert len(listed) == want
    assert not listed["姓名"].str.contains("*", regex=False).any()  # the school's own candidates, in full
