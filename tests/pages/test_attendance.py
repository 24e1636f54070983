"""AppTest of the 报名, 考勤 and 成绩 pages: staff signed in, every shared filter driven, the figures
shown compared with pandas on the demo export files."""

from __future__ import annotations

import analytics_expected as ex
from analytics_expected import drive, pct
from helpers import metrics, page_as, rows, sign_in, table


def test_attendance_page(app_env, demo_db_con, cand):
    at = page_as("app_pages/attendance.py", sign_in(demo_db_con, "staff"))
    assert not at.exception
    assert any("异常缺考判定" in c.value for c in at.caption)  # the rule is on the page

    def check(at, d):
        m = metrics(at)
        assert m["缺考"] == f"{int(d.absent.sum()):,}"
        assert m["实到"] == f"{int(d.sat.sum()):,}"
        assert m["违纪"] == f"{int((d.attendance == '违纪').sum()):,}"
        if d.absent.sum() + d.sat.sum():
            assert m["缺考率"] == pct(d.absent.sum() / (d.absent.sum() + d.sat.sum()))
        sites = table(at, "考点代码", "考点名称", "省份", "报名", "实到", "缺考")
        want = ex.attendance(d, "site_code").set_index("site_code")
        assert sites.set_index("考点代码")["缺考"].sort_index().tolist() == want.absent.sort_index().tolist()
        listed = table(at, "准考证号", "姓名", "身份证号", "级别")  # 缺考与违纪名单, masked
        assert (listed["考勤情况"] == "缺考").sum() == int(d.absent.sum())
        assert (listed["考勤情况"] == "违纪").sum() == int((d.attendance == "违纪").sum())
        assert listed["姓名"].str.contains("*", regex=False).all()
        assert listed["身份证号"].str.fullmatch(r"\w{6}\*{8}\w{4}").all()

    drive(at, cand, check, batch="2023-1")


def test_the_absent_and_irregular_list_filters_and_downloads(app_env, demo_db_con, downloads):
    at = page_as("app_pages/attendance.py", sign_in(demo_db_con, "staff"))
    both = table(at, "准考证号", "姓名", "身份证号", "级别")
    assert set(both["考勤情况"]) == {"缺考", "违纪"}
    at.radio(key="attendance_exception_status").set_value("违纪").run()
    only = table(at, "准考证号", "姓名", "身份证号", "级别")
    assert set(only["考勤情况"]) == {"违纪"} and len(only) == (both["考勤情况"] == "违纪").sum()
    rooms = dict(rows(demo_db_con, "select a.ticket_no, a.room from attendance a join registrations r using (ticket_no) "
                                   "where a.batch_code = '2023-1' and a.status = '违纪' and r.status = '正常'"))
    assert dict(zip(only["准考证号"], only["考场"])) == rooms
    csv = downloads(next(b for b in at.get("download_button") if b.proto.label == "下载名单 .csv")).decode("utf-8-sig")
    assert csv.count("\n") == len(only) + 1 and "违纪" in csv and only["姓名"].iat[0] in csv
    assert any("违纪" in c.value and "人" in c.value for c in at.caption)


def test_attendance_page_lists_unusual_sites(app_env, demo_db_con, cand):
    at = page_as("app_pages/attendance.py", sign_in(demo_db_con, "staff"))
    want = ex.unusual_sites(cand, "2023-1")
    assert len(want) > 0
    shown = table(at, "考点代码", "考点名称", "省份", "有记录人数", "缺考", "缺考率", "全国缺考率")
    assert sorted(shown["考点代码"]) == sorted(want.site_code)
    assert metrics(at)["异常缺考考点"] == str(len(want))


def test_attendance_national_rate_ignores_the_place_filters(app_env, demo_db_con, cand):
    at = page_as("app_pages/attendance.py", sign_in(demo_db_con, "staff"))
    at.selectbox(key="filters_province").set_value("广东省").run()
    assert not at.exception
    d = ex.select(cand, "2023-1")
    national = d.absent.sum() / (d.absent.sum() + d.sat.sum())
    local = ex.select(cand, "2023-1", province="广东省")
    assert pct(national) != pct(local.absent.sum() / len(local))  # the two differ, so the check can fail
    assert any(f"本次全国缺考率：{pct(national)}" in c.value for c in at.caption)
