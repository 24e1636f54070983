"""What is next: a batch's stage on a day, its next key date and the notice's to-dos for each role."""

from __future__ import annotations

import datetime as dt

import pytest

from examdash.domain.calendar import next_deadline, stages_on
from examdash.domain.plan import AUDIENCES, load_plan
from examdash.views import progress
from examdash.views.common import runner

D = dt.date


@pytest.fixture(scope="module")
def run(demo_ro):
    return runner(demo_ro)


def test_the_next_deadline_counts_days_from_today():
    dates = {"reg_deadline": D(2023, 5, 9), "exam_date": D(2023, 5, 27), "publicity_end": D(2023, 6, 18),
             "cert_from": D(2023, 6, 19)}
    assert next_deadline(dates, D(2023, 5, 1)).text == "报名截止：2023-05-09（还有 8 天）"
    assert next_deadline(dates, D(2023, 5, 27)).text == "考试日：2023-05-27（今天）"
    assert next_deadline(dates, D(2023, 6, 14)).label == "成绩公示结束"
    assert next_deadline(dates, D(2023, 6, 19)).label == "开始颁发证书"
    assert next_deadline(dates, D(2023, 6, 20)) is None


def test_stages_overlap_and_open_ended_ones_run_on():
    stages = [("报名", None, D(2023, 5, 9)), ("调试", D(2023, 4, 27), D(2023, 5, 21)), ("证书", D(2023, 6, 19), None)]
    assert stages_on(stages, D(2023, 5, 1)) == ["报名", "调试"]
    assert stages_on(stages, D(2023, 5, 22)) == []
    assert stages_on(stages, D(2030, 1, 1)) == ["证书"]


def test_each_role_sees_its_own_to_dos_of_the_stage_under_way(run):
    day = D(2023, 6, 14)  # 2023-1 in its publicity week, 2023-2 two days before its exam
    plan = load_plan()
    staff = {p.batch_code: p for p in progress.build(run, day, None)}
    assert list(staff) == ["2023-1", "2023-2"]
    assert staff["2023-1"].stages == ["成绩公示"] and staff["2023-1"].deadline.text == "成绩公示结束：2023-06-18（还有 4 天）"
    assert staff["2023-2"].stages == ["下载准考证、部署考场、打印物料"]
    assert staff["2023-2"].deadline.text == "考试日：2023-06-16（还有 2 天）"
    publicity = [t for t in plan.todos if t.stage == "成绩公示"]
    assert staff["2023-1"].todos == [f"【{AUDIENCES[t.audience]}】{t.text}" for t in publicity]
    assert {t.audience for t in publicity} == {"school", "site", "staff"}
    school = {p.batch_code: p for p in progress.build(run, day, "school")}
    assert school["2023-1"].todos == [t.text for t in publicity if t.audience == "school"]
    assert school["2023-2"].todos == []  # downloading materials is the sites' work
    site = {p.batch_code: p for p in progress.build(run, day, "site")}
    assert site["2023-2"].todos == [t.text for t in plan.todos if t.stage == "下载准考证、部署考场、打印物料"]
    with pytest.raises(ValueError):
        progress.build(run, day, "candidate")


def test_long_finished_batches_leave_the_panel_but_the_latest_stays(run):
    assert [p.batch_code for p in progress.build(run, D(2023, 8, 1), "school")] == ["2023-2"]
    latest = progress.build(run, D(2024, 3, 1), "school")
    assert [p.batch_code for p in latest] == ["2023-2"] and latest[0].deadline is None
    assert latest[0].stages == ["颁发证书"]
    assert "证书颁发中" in latest[0].headline
