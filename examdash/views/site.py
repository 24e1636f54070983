"""本考点: a 考点 account's own exam site: its candidates (its school's, borrowed and social), registrations
against its seats, and the attendance and results of those who sat there (other schools' candidates as
figures). The site comes from the signed-in identity only; the queries bind it as $scope_site."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from examdash.domain.ids import mask_id
from examdash.domain.rules import LEVELS
from examdash.views import exports
from examdash.views.common import Run, display_table, pct, yes_no

CANDIDATE_COLUMNS = ["ticket_no", "name", "id_no", "level", "school_code", "school_name", "candidate_type", "origin",
                     "room", "seat", "attendance_status", "theory", "practical", "total", "passed"]
LABELS = {"origin": "考生来源"}


@dataclass
class SiteView:
    site_code: str
    site_name: str
    place: str
    metrics: list[tuple[str, str, str]]
    capacity: pd.DataFrame  # per level: registered against seats
    candidates: pd.DataFrame  # names in full (the site runs the exam), ID numbers masked
    by_school: pd.DataFrame  # attendance and results per school and level
    files: dict  # the candidate list as .xlsx / .csv, built on click
    exceptions: pd.DataFrame  # the candidates the site's sign-in sheets record as 缺考 or 违纪
    exception_files: dict


def build(run: Run, user, batch: str) -> SiteView:
    profile = run("site_profile", site=user.site_code)
    if profile.empty:
        raise PermissionError("账号关联的考点不存在，请联系管理员")
    p = profile.iloc[0]
    raw = run("site_candidates", batch=batch, site=user.site_code)
    seats = None if pd.isna(p.seats) else int(p.seats)
    per_level = raw.groupby("level").size().reindex(list(LEVELS), fill_value=0)
    capacity = pd.DataFrame({
        "级别": list(LEVELS),
        "报名": [int(per_level[lv]) for lv in LEVELS],
        "机位数": [seats] * len(LEVELS),
    })
    capacity["超出机位"] = [("—" if seats is None else ("是" if n > seats else "否")) for n in capacity["报名"]]
    borrowed = int((raw.origin == "借考").sum())
    social = int((raw.origin == "社会考生").sum())
    peak = int(per_level.max()) if len(raw) else 0
    metrics = [
        ("本考点报名", f"{len(raw):,}", f"初级 {int(per_level['初级']):,}，中级 {int(per_level['中级']):,}"),
        ("机位数", "—" if seats is None else f"{seats:,}",
         "两个级别分场考试（中级 08:30–11:30，初级 14:00–16:30），机位须容纳人数较多的一场"),
        ("借考 / 社会考生", f"{borrowed:,} / {social:,}", "其他院校在本考点考试的考生 / 本考点院校代报名的社会考生"),
        ("机位占用率", pct(peak / seats) if seats else "—", "人数较多的一场 / 机位数"),
    ]
    cands = raw.assign(passed=yes_no(raw.passed, "合格", "不合格"), attendance_status=raw.attendance_status.fillna("—"),
                       id_no=raw.id_no.map(mask_id))
    cands.loc[~raw.own.astype(bool), "passed"] = "（由所属院校查看）"
    table = display_table(cands, CANDIDATE_COLUMNS).rename(columns={**LABELS, "合格": "是否合格"})
    by_school = run("site_results_by_school", batch=batch, site=user.site_code)
    by_school_table = display_table(by_school, ["school_code", "school_name", "level", "registered", "sat", "absent",
                                                "violations", "passed", "pass_rate"], rates=("pass_rate",))
    place = " ".join(str(v) for v in (p.province, p.city) if isinstance(v, str))
    host = f"{p.host_school_code} {p.host_school_name or ''}".strip() if isinstance(p.host_school_code, str) else "—"
    files = exports.table_files(table, "考点考生名单", f"{p.site_code}_{batch}", "考生名单")
    exceptions = table[table["签到状态"].isin(["缺考", "违纪"])].reset_index(drop=True)
    exception_files = exports.table_files(exceptions, "考点缺考与违纪名单", f"{p.site_code}_{batch}", "缺考与违纪")
    return SiteView(p.site_code, p.site_name, f"{place}；所属院校 {host}", metrics, capacity, table, by_school_table,
                    files, exceptions, exception_files)
