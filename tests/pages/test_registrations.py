"""AppTest of the 报名, 考勤 and 成绩 pages: staff signed in, every shared filter driven, the figures
shown compared with pandas on the demo export files."""

from __future__ import annotations

import analytics_expected as ex
from analytics_expected import drive
from helpers import metrics, page_as, sign_in, table


def test_registrations_page(app_env, demo_db_con, cand):
    at = page_as("app_pages/registrations.py", sign_in(demo_db_con, "staff"))
    assert not at.exception
    assert at.title[0].value == "报名"

    def check(at, d):
        m = metrics(at)
        assert m["报名人数"] == f"{len(d):,}"
        assert m["社会考生"] == f"{int((d.candidate_type == '社会考生').sum()):,}"
        sites = table(at, "考点代码", "考点名称", "省份", "初级", "中级", "合计")
        want = d.groupby("site_code").size()
        assert sites.set_index("考点代码")["合计"].sort_index().to_dict() == want.sort_index().to_dict()
        borrowed = d[d.host_school_code != d.school_code]
        assert m["借考人数"] == f"{len(borrowed):,}"

    drive(at, cand, check)
    assert len(at.get("plotly_chart")) >= 6


def test_registrations_page_first_view_has_figures(app_env, demo_db_con, cand):
    at = page_as("app_pages/registrations.py", sign_in(demo_db_con, "staff"))
    d = ex.select(cand, "2023-1")
    daily = table(at, "日期")
    assert daily["合计累计"].iloc[-1] == len(d)
    assert str(daily["日期"].iloc[-1]) == "2023-05-09"  # the deadline of 2023-1
    schools = table(at, "院校代码", "院校名称", "省份", "初级", "中级", "合计")
    assert schools.set_index("院校代码")["合计"].to_dict() == d.groupby("school_code").size().to_dict()
    kinds = table(at, "考生类型", "初级", "中级", "合计").set_index("考生类型")
    assert kinds.loc["社会考生", "合计"] == int((d.candidate_type == "社会考生").sum())
    capacity = table(at, "考点代码", "考点名称", "省份", "机位数", "初级报名", "中级报名", "较大一场人数")
    per = d.groupby(["site_code", "level"]).size().unstack(fill_value=0).max(axis=1)
    assert capacity.set_index("考点代码")["较大一场人数"].loc[per.index].tolist() == per.tolist()
    assert any("没有超出机位" in s.value for s in at.success)
