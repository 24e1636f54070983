"""AppTest of 本考点 (a 考点 account): its candidates with borrowed and social ones, registrations against seats,
attendance and results per school, what is next, and the candidate list download."""

from __future__ import annotations

from helpers import metrics, page_as, rows, table


def test_the_site_sees_its_candidates_its_seats_and_its_results(app_env, demo_db_con, downloads):
    at = page_as("site", "site1", demo_db_con, batch="2023-1")
    assert not at.exception
    site = rows(demo_db_con, "select u.site_code, s.seats from users u join sites s using (site_code) "
                             "where u.username = 'site1'")[0]
    registered = rows(demo_db_con, "select level, count(*) from results where batch_code = '2023-1' and site_code = $s "
                                   "group by level", {"s": site[0]})
    total = sum(n for _, n in registered)
    assert metrics(at)["本考点报名"] == f"{total:,}"
    assert metrics(at)["机位数"] == f"{site[1]:,}"
    capacity = table(at, "级别", "报名", "机位数").set_index("级别")["报名"].to_dict()
    assert capacity == {lv: n for lv, n in registered} | {lv: 0 for lv in ("初级", "中级") if lv not in dict(registered)}

    cands = next(d.value for d in at.dataframe if "考生来源" in d.value.columns and len(d.value) == total)
    assert cands["身份证号"].str.fullmatch(r"\w{6}\*{8}\w{4}").all()
    assert set(cands["考生来源"]) == {"本校", "借考", "社会考生"}
    assert (cands[cands["考生来源"] == "借考"]["是否合格"] == "（由所属院校查看）").all()

    results = table(at, "院校代码", "院校名称", "级别", "报名", "实考")
    assert int(results["报名"].sum()) == total
    sat = rows(demo_db_con, "select count_if(sat) from results where batch_code = '2023-1' and site_code = $s",
               {"s": site[0]})[0][0]
    assert int(results["实考"].sum()) == sat
    assert "下一节点" in "\n".join(m.value for m in at.markdown)

    csv = downloads(next(b for b in at.get("download_button") if b.proto.label == "下载考生名单 .csv")).decode("utf-8-sig")
    assert csv.count("\n") == total + 1 and "借考" in csv


def test_the_site_lists_its_absent_and_irregular_candidates(app_env, demo_db_con):
    at = page_as("site", "site1", demo_db_con, batch="2023-1")
    site = rows(demo_db_con, "select site_code from users where username = 'site1'")[0][0]
    want = rows(demo_db_con, "select count(*) from results where batch_code = '2023-1' and site_code = $s "
                             "and attendance_status in ('缺考', '违纪')", {"s": site})[0][0]
    listed = next(d.value for d in at.dataframe if len(d.value) == want and "签到状态" in d.value.columns
                  and set(d.value["签到状态"]) <= {"缺考", "违纪"})
    assert want and listed["身份证号"].str.contains("*", regex=False).all()
