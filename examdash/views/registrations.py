"""报名: registrations per site, school, province, level and candidate type, the daily curve to the
deadline, seats against registrations per site, and borrowed sites (借考)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from examdash.domain.glossary import LABELS
from examdash.domain.rules import LEVELS
from examdash.views.common import (
    Filters,
    Run,
    by_level_wide,
    display_table,
    top_rows,
    with_label,
)

CAPACITY_NOTE = (
    "初级（14:00-16:30）与中级（08:30-11:30）在考试当天分场进行，机位数与两个级别中报名较多的一场比较；"
    "按考点的全部有效报名计算，不受院校、考生类型筛选影响，省份筛选按考点所在省份。"
)


@dataclass
class RegistrationsView:
    metrics: list[tuple[str, str, str]]
    by_site: pd.DataFrame  # chart: label, level, registered (top sites)
    by_site_table: pd.DataFrame
    by_school: pd.DataFrame
    by_school_table: pd.DataFrame
    by_province: pd.DataFrame
    by_province_table: pd.DataFrame
    by_type: pd.DataFrame  # level, candidate_type, registered
    by_type_table: pd.DataFrame
    daily: pd.DataFrame  # day, level, cumulative (合计 line included)
    daily_table: pd.DataFrame
    deadline: dt.date
    capacity: pd.DataFrame  # site_name, seats, registered (= the larger level)
    capacity_table: pd.DataFrame
    over_capacity_table: pd.DataFrame
    borrowed_table: pd.DataFrame
    borrowed_total: int


def build(run: Run, f: Filters) -> RegistrationsView:
    p = f.params()
    by_site = run("registrations_by_site", **p)
    by_school = run("registrations_by_school", **p)
    by_province = run("registrations_by_province", **p)
    by_type = run("registrations_by_type", **p)
    daily = run("registrations_daily", **p)
    capacity = run("site_capacity", **f.params("batch", "level", "province", "site"))
    borrowed = run("borrowed_sites", **p)
    batches = run("batches")
    deadline = pd.Timestamp(batches.loc[batches.batch_code == f.batch, "reg_deadline"].iloc[0]).date()

    total = int(by_type.registered.sum())
    per_level = by_type.groupby("level").registered.sum()
    per_type = by_type.groupby("candidate_type").registered.sum()
    over = capacity[capacity.over_capacity.fillna(False).astype(bool)]
    borrowed_total = int(borrowed.candidates.sum())
    metrics = [
        ("报名人数", f"{total:,}", "有效报名（不含已取消）"),
        ("初级", f"{int(per_level.get('初级', 0)):,}", "初级报名人数"),
        ("中级", f"{int(per_level.get('中级', 0)):,}", "中级报名人数"),
        ("社会考生", f"{int(per_type.get('社会考生', 0)):,}", f"在校生 {int(per_type.get('在校生', 0)):,} 人"),
        ("考点 / 院校", f"{by_site.site_code.nunique():,} / {by_school.school_code.nunique():,}", "有报名的考点数与院校数"),
        ("借考人数", f"{borrowed_total:,}", "在非本校考点参加考核的考生（社会考生由考点所在院校报名，不计）"),
        ("超出机位的考点", f"{len(over):,}", "机位数少于报名较多的一个级别的人数"),
    ]

    site_chart = top_rows(with_label(by_site, "site_code", "site_name"), "label", "registered")
    school_chart = top_rows(with_label(by_school, "school_code", "school_name"), "label", "registered")
    site_table = by_level_wide(by_site, ["site_code", "site_name", "province"]).merge(
        by_site.drop_duplicates("site_code")[["site_code", "seats"]], on="site_code", how="left")
    site_table = site_table.sort_values("合计", ascending=False, kind="stable").rename(columns=LABELS)
    school_wide = by_level_wide(by_school, ["school_code", "school_name", "province"])
    school_types = by_school.groupby("school_code")[["students", "social"]].sum().reset_index()
    school_table = school_wide.merge(school_types, on="school_code", how="left")
    school_table = school_table.sort_values("合计", ascending=False, kind="stable").rename(columns=LABELS)
    province_table = by_level_wide(by_province, ["province"]).sort_values("合计", ascending=False, kind="stable")
    type_table = by_level_wide(by_type, ["candidate_type"]).rename(columns=LABELS)

    curve = daily[["day", "level", "registered", "cumulative"]].copy()
    curve["day"] = pd.to_datetime(curve["day"])
    if curve.level.nunique() > 1:
        both = curve.groupby("day", as_index=False)[["registered"]].sum().sort_values("day")
        both = both.assign(level="合计", cumulative=both.registered.cumsum())
        curve = pd.concat([curve, both[curve.columns]], ignore_index=True)
    daily_table = curve.pivot_table(index="day", columns="level", values=["registered", "cumulative"],
                                    aggfunc="sum", fill_value=0)
    order = [lv for lv in (*LEVELS, "合计") if lv in curve.level.unique()]
    daily_table = pd.DataFrame(
        {**{f"{lv}新增": daily_table[("registered", lv)] for lv in order},
         **{f"{lv}累计": daily_table[("cumulative", lv)] for lv in order}},
        index=daily_table.index,
    ).reset_index().rename(columns={"day": "日期"})
    if len(daily_table):
        daily_table["日期"] = daily_table["日期"].dt.date

    cap_chart = capacity.assign(registered=capacity.peak)[["site_code", "site_name", "seats", "registered"]]
    cap_cols = ["site_code", "site_name", "province", "seats", "registered_junior", "registered_middle", "peak",
                "over_capacity", "over_by", "utilisation"]
    capacity_table = display_table(capacity, cap_cols, rates=("utilisation",))
    over_table = display_table(over, cap_cols, rates=("utilisation",))
    borrowed_table = display_table(borrowed, ["school_code", "school_name", "school_province", "site_code", "site_name",
                                       "site_province", "host_school_name", "junior", "middle", "candidates"])
    return RegistrationsView(
        metrics=metrics,
        by_site=site_chart, by_site_table=site_table,
        by_school=school_chart, by_school_table=school_table,
        by_province=by_province, by_province_table=province_table.rename(columns=LABELS),
        by_type=by_type, by_type_table=type_table,
        daily=curve, daily_table=daily_table, deadline=deadline,
        capacity=cap_chart, capacity_table=capacity_table, over_capacity_table=over_table,
        borrowed_table=borrowed_table, borrowed_total=borrowed_total,
    )

