"""AppTest of the 报名, 考勤 and 成绩 pages: staff signed in, every shared filter driven, the figures
shown compared with pandas on the demo export files."""

from __future__ import annotations

import analytics_expected as ex
from analytics_expected import drive, pct
from helpers import metrics, page_as, sign_in, table


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

    drive(at, cand, check, batch="2023-1")


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
