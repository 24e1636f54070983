"""考勤: attendance and absence per site and school, and the sites with unusual absence."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from examdash.views import exports
from examdash.views.common import (
    CHART_ROWS,
    Filters,
    Run,
    display_table,
    pct,
    with_label,
)

ABSENCE_RULE = (
    "异常缺考判定：该考点有签到记录或成绩的考生不少于 10 人，缺考率不低于全国缺考率的 2 倍，"
    "且高于全国缺考率 + 2 个标准差（按该考点人数计算的二项分布标准差 √(p(1−p)/n)）。"
    "全国缺考率按本批次全部考点计算（随级别、考生类型筛选变化）。"
)


@dataclass
class AttendanceView:
    metrics: list[tuple[str, str, str]]
    national_rate: float | None
    by_site: pd.DataFrame  # chart: label, absence_rate (sites with the highest absence)
    by_site_table: pd.DataFrame
    by_school: pd.DataFrame
    by_school_table: pd.DataFrame
    unusual: pd.DataFrame  # the query's rows
    unusual_table: pd.DataFrame
    rule: str = ABSENCE_RULE


_ATT_COLS = ["registered", "present", "absent", "violations", "unrecorded", "attendance_rate", "absence_rate"]


def build(run: Run, f: Filters) -> AttendanceView:
    p = f.params()
    by_site = run("attendance_by_site", **p)
    by_school = run("attendance_by_school", **p)
    unusual = run("unusual_absence", **p)

    sums = {c: int(by_site[c].sum()) for c in ("registered", "present", "absent", "violations", "unrecorded")}
    recorded = sums["present"] + sums["absent"]
    rate = sums["absent"] / recorded if recorded else None
    # The national rate the unusual-absence rule compares with: every site, whatever the place filters.
    national_p = {**p, "province": None, "site": None, "school": None}
    nation = by_site if national_p == p else run("attendance_by_site", **national_p)
    nation_recorded = int(nation.present.sum() + nation.absent.sum())
    national = nation.absent.sum() / nation_recorded if nation_recorded else None
    metrics = [
        ("报名人数", f"{sums['registered']:,}", "有效报名（不含已取消）"),
        ("实到", f"{sums['present']:,}", "已签到（含违纪）；没有签到记录时按有无成绩判断"),
        ("缺考", f"{sums['absent']:,}", "签到表记为缺考，或成绩表记为缺考"),
        ("缺考率", pct(rate), "缺考 /（实到 + 缺考）"),
        ("违纪", f"{sums['violations']:,}", "签到表记为违纪（计入实到，不合格）"),
        ("未登记", f"{sums['unrecorded']:,}", "既无签到记录也无成绩，不计入出勤率"),
        ("异常缺考考点", f"{len(unusual):,}", ABSENCE_RULE),
    ]
    site_chart = with_label(by_site, "site_code", "site_name")
    site_chart = site_chart[site_chart.absence_rate.notna()].sort_values(
        ["absence_rate", "registered"], ascending=False).head(CHART_ROWS)
    school_chart = with_label(by_school, "school_code", "school_name")
    school_chart = school_chart[school_chart.absence_rate.notna()].sort_values(
        ["absence_rate", "registered"], ascending=False).head(CHART_ROWS)
    site_table = display_table(by_site, ["site_code", "site_name", "province", *_ATT_COLS],
                        rates=("attendance_rate", "absence_rate"))
    school_table = display_table(by_school, ["school_code", "school_name", "province", *_ATT_COLS],
                          rates=("attendance_rate", "absence_rate"))
    unusual_table = display_table(unusual, ["site_code", "site_name", "province", "recorded", "absent", "absence_rate",
                                     "national_rate", "threshold"],
                           rates=("absence_rate", "national_rate", "threshold"))
    unusual_table["为全国的倍数"] = unusual.times_national.map(lambda v: "—" if pd.isna(v) else f"{v:.1f}")
    return AttendanceView(metrics, national, site_chart, site_table,
                          school_chart, school_table, unusual, unusual_table)



EXCEPTIONS = ("缺考", "违纪")
EXCEPTION_COLUMNS = ["batch_code", "ticket_no", "name", "id_no", "level", "school_code", "school_name", "site_code",
                     "site_name", "candidate_type", "exception", "recorded_in", "room", "seat"]


@dataclass
class ExceptionList:
    table: pd.DataFrame  # Chinese headers, masked unless the viewer may see the people in full
    absent: int
    irregular: int
    files: dict  # ext -> (build, file name, MIME type), built on click

    @property
    def summary(self) -> str:
        return f"缺考 {self.absent:,} 人，违纪 {self.irregular:,} 人"


def exceptions(run: Run, f: Filters, status: str | None, masked: bool) -> ExceptionList:
    """缺考与违纪名单 under the sidebar filters (scoped by the runner's identity); status 缺考 / 违纪 / None
    for both. masked: names and ID numbers by the one masking rule (everyone but the candidate's school)."""
    if status is not None and status not in EXCEPTIONS:
        raise ValueError(f"考勤情况只能是 {'、'.join(EXCEPTIONS)}")
    raw = run("attendance_exceptions", **f.params(), status=status)
    table = display_table(raw, EXCEPTION_COLUMNS)
    if masked:
        table = exports.mask_people(table)
    which = status or "缺考与违纪"
    files = exports.table_files(table, f"{which}名单", f.describe(), which)
    return ExceptionList(table, int((raw.exception == "缺考").sum()), int((raw.exception == "违纪").sum()), files)
