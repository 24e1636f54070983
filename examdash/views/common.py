"""The organiser's analytics pages (报名, 考勤, 成绩): one call per page returning ready frames.

Every function takes the page's Filters and an optional `run(name, **params)`; pages leave it
out (web.query: cached, scoped by the signed-in identity), tests and benchmarks pass a runner
over queries.run. Chart frames keep the query's column names (the chart builders read them);
tables for display get Chinese headers and formatted rates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from examdash import web
from examdash.store import queries
from examdash.views import exports
from examdash.web import charts
from examdash.domain.ids import LEVELS
from examdash.web.filters import Filters

Run = Callable[..., pd.DataFrame]

FILTERS = ("batch", "level", "province", "site", "school", "candidate_type")
CHART_ROWS = 30  # bars per ranked chart; the table behind it has every row
TABLE_ROWS = 1000  # rows of the score table shown on the page; downloads carry every filtered row
MIME = exports.MIME

ABSENCE_RULE = (
    "异常缺考判定：该考点有签到记录或成绩的考生不少于 10 人，缺考率不低于全国缺考率的 2 倍，"
    "且高于全国缺考率 + 2 个标准差（按该考点人数计算的二项分布标准差 √(p(1−p)/n)）。"
    "全国缺考率按本批次全部考点计算（随级别、考生类型筛选变化）。"
)
CAPACITY_NOTE = (
    "初级（14:00-16:30）与中级（08:30-11:30）在考试当天分场进行，机位数与两个级别中报名较多的一场比较；"
    "按考点的全部有效报名计算，不受院校、考生类型筛选影响，省份筛选按考点所在省份。"
)

HEADERS = {
    "batch_code": "考试批次", "ticket_no": "准考证号", "name": "姓名", "id_no": "身份证号",
    "site_code": "考点代码", "site_name": "考点名称", "province": "省份", "city": "城市", "level": "级别",
    "registered": "报名", "seats": "机位数", "school_code": "院校代码", "school_name": "院校名称",
    "students": "在校生", "social": "社会考生", "school_type": "院校类型", "is_pilot": "试点院校",
    "candidate_type": "考生类型", "day": "日期", "cumulative": "累计报名",
    "registered_junior": "初级报名", "registered_middle": "中级报名", "registered_total": "报名合计",
    "peak": "较大一场人数", "over_capacity": "超出机位", "over_by": "超出人数", "utilisation": "机位占用率",
    "school_province": "院校省份", "site_province": "考点省份", "host_school_code": "考点所属院校代码",
    "host_school_name": "考点所属院校", "candidates": "人数", "junior": "初级", "middle": "中级",
    "present": "实到", "absent": "缺考", "violations": "违纪", "unrecorded": "未登记",
    "attendance_rate": "出勤率", "absence_rate": "缺考率", "recorded": "有记录人数", "national_rate": "全国缺考率",
    "threshold": "判定阈值", "times_national": "为全国的倍数", "sat": "实考", "passed": "合格",
    "pass_rate": "合格率", "pass_rule": "合格规则", "part": "科目", "bin": "分数段",
    "theory_bin": "理论分数段", "practical_bin": "实操分数段", "attendance_status": "签到状态",
    "theory": "理论成绩", "practical": "实操成绩", "total": "总成绩", "verdict_mismatch": "平台判定不一致",
}
PARTS = {"theory": "理论成绩", "practical": "实操成绩", "total": "总成绩"}
SCORE_COLUMNS = ["batch_code", "ticket_no", "name", "id_no", "level", "school_code", "school_name", "province",
                 "site_code", "site_name", "candidate_type", "attendance_status", "theory", "practical", "total",
                 "passed", "pass_rule", "verdict_mismatch"]


def pct(x) -> str:
    return "—" if x is None or pd.isna(x) else f"{x:.1%}"


def _web_query(name: str, **params) -> pd.DataFrame:
    return web.query(name, **params)


def runner(con, scope: queries.Scope = queries.FULL_SCOPE) -> Run:
    """A `run` over a connection, for tests, the benchmark and deferred downloads (no Streamlit)."""
    return lambda name, **params: queries.run(con, name, params, scope)


def _params(f: Filters, *names: str) -> dict:
    return f.params(*(names or FILTERS))


def _table(df: pd.DataFrame, columns: list[str], rates: tuple[str, ...] = ()) -> pd.DataFrame:
    """Pick columns in order, format rates as percentages, rules as words, headers in Chinese."""
    out = df[columns].copy()
    for c in rates:
        out[c] = out[c].map(pct)
    if "pass_rule" in out:
        out["pass_rule"] = out["pass_rule"].map(charts.RULE_LABELS).fillna(out["pass_rule"])
    for c in ("over_capacity", "is_pilot", "verdict_mismatch"):
        if c in out:
            out[c] = _words(out[c], "是", "否")
    return out.rename(columns=HEADERS)


def _words(flags: pd.Series, yes: str, no: str) -> pd.Series:
    """True / False / missing as words (vectorised: the download maps a million rows)."""
    return flags.map({True: yes, False: no}).astype("object").where(flags.notna(), "—")


def _wide(df: pd.DataFrame, keys: list[str], value: str = "registered") -> pd.DataFrame:
    """Long (keys, level, value) -> one row per key with 初级, 中级 and 合计 columns."""
    if df.empty:
        return pd.DataFrame(columns=[*keys, *LEVELS, "合计"])
    filled = df.assign(**{k: df[k].fillna("—") for k in keys})
    wide = filled.groupby([*keys, "level"], sort=False)[value].sum().unstack("level", fill_value=0)
    for lv in LEVELS:
        if lv not in wide:
            wide[lv] = 0
    wide = wide[list(LEVELS)].astype("int64")
    wide["合计"] = wide.sum(axis=1)
    return wide.reset_index()


def _top(df: pd.DataFrame, key: str, by: str, n: int = CHART_ROWS) -> pd.DataFrame:
    """The rows of the n keys with the largest `by` summed over levels, largest first."""
    order = df.groupby(key, sort=False)[by].sum().sort_values(ascending=False).head(n).index
    rank = {k: i for i, k in enumerate(order)}
    part = df[df[key].isin(rank)]
    return part.assign(_rank=part[key].map(rank)).sort_values(["_rank", "level"], key=_level_key).drop(columns="_rank")


def _level_key(s: pd.Series) -> pd.Series:
    return s.map({lv: i for i, lv in enumerate(LEVELS)}) if s.name == "level" else s


def rules_text(by_level: pd.DataFrame) -> str:
    """合格规则：初级 理论与实操均≥60分；中级 …"""
    if by_level.empty:
        return "合格规则：—"
    return "合格规则：" + "；".join(f"{r.level} {charts.RULE_LABELS.get(r.pass_rule, r.pass_rule)}"
                                  for r in by_level.itertuples())


def _label(df: pd.DataFrame, code: str, name: str) -> pd.DataFrame:
    """A chart label that stays unique when two sites or schools share a name."""
    return df.assign(label=df[name].astype("str") + "（" + df[code].astype("str") + "）")


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


def registrations_view(f: Filters, run: Run | None = None) -> RegistrationsView:
    run = run or _web_query
    p = _params(f)
    by_site = run("registrations_by_site", **p)
    by_school = run("registrations_by_school", **p)
    by_province = run("registrations_by_province", **p)
    by_type = run("registrations_by_type", **p)
    daily = run("registrations_daily", **p)
    capacity = run("site_capacity", **_params(f, "batch", "level", "province", "site"))
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

    site_chart = _top(_label(by_site, "site_code", "site_name"), "label", "registered")
    school_chart = _top(_label(by_school, "school_code", "school_name"), "label", "registered")
    site_table = _wide(by_site, ["site_code", "site_name", "province"]).merge(
        by_site.drop_duplicates("site_code")[["site_code", "seats"]], on="site_code", how="left")
    site_table = site_table.sort_values("合计", ascending=False, kind="stable").rename(columns=HEADERS)
    school_wide = _wide(by_school, ["school_code", "school_name", "province"])
    school_types = by_school.groupby("school_code")[["students", "social"]].sum().reset_index()
    school_table = school_wide.merge(school_types, on="school_code", how="left")
    school_table = school_table.sort_values("合计", ascending=False, kind="stable").rename(columns=HEADERS)
    province_table = _wide(by_province, ["province"]).sort_values("合计", ascending=False, kind="stable")
    type_table = _wide(by_type, ["candidate_type"]).rename(columns=HEADERS)

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
    capacity_table = _table(capacity, cap_cols, rates=("utilisation",))
    over_table = _table(over, cap_cols, rates=("utilisation",))
    borrowed_table = _table(borrowed, ["school_code", "school_name", "school_province", "site_code", "site_name",
                                       "site_province", "host_school_name", "junior", "middle", "candidates"])
    return RegistrationsView(
        metrics=metrics,
        by_site=site_chart, by_site_table=site_table,
        by_school=school_chart, by_school_table=school_table,
        by_province=by_province, by_province_table=province_table.rename(columns=HEADERS),
        by_type=by_type, by_type_table=type_table,
        daily=curve, daily_table=daily_table, deadline=deadline,
        capacity=cap_chart, capacity_table=capacity_table, over_capacity_table=over_table,
        borrowed_table=borrowed_table, borrowed_total=borrowed_total,
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


def attendance_view(f: Filters, run: Run | None = None) -> AttendanceView:
    run = run or _web_query
    p = _params(f)
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
    site_chart = _label(by_site, "site_code", "site_name")
    site_chart = site_chart[site_chart.absence_rate.notna()].sort_values(
        ["absence_rate", "registered"], ascending=False).head(CHART_ROWS)
    school_chart = _label(by_school, "school_code", "school_name")
    school_chart = school_chart[school_chart.absence_rate.notna()].sort_values(
        ["absence_rate", "registered"], ascending=False).head(CHART_ROWS)
    site_table = _table(by_site, ["site_code", "site_name", "province", *_ATT_COLS],
                        rates=("attendance_rate", "absence_rate"))
    school_table = _table(by_school, ["school_code", "school_name", "province", *_ATT_COLS],
                          rates=("attendance_rate", "absence_rate"))
    unusual_table = _table(unusual, ["site_code", "site_name", "province", "recorded", "absent", "absence_rate",
                                     "national_rate", "threshold"],
                           rates=("absence_rate", "national_rate", "threshold"))
    unusual_table["为全国的倍数"] = unusual.times_national.map(lambda v: "—" if pd.isna(v) else f"{v:.1f}")
    return AttendanceView(metrics, national, site_chart, site_table,
                          school_chart, school_table, unusual, unusual_table)


@dataclass
class ScoresView:
    metrics: list[tuple[str, str, str]]
    rules: str
    by_level: pd.DataFrame
    by_level_table: pd.DataFrame
    by_province: pd.DataFrame
    by_province_table: pd.DataFrame
    by_site: pd.DataFrame  # chart rows: the sites with the most candidates who sat
    by_site_table: pd.DataFrame
    by_school: pd.DataFrame
    by_school_table: pd.DataFrame
    histogram: pd.DataFrame  # part, bin, candidates
    histogram_table: pd.DataFrame
    heatmap: pd.DataFrame  # theory_bin, practical_bin, candidates
    heatmap_table: pd.DataFrame
    table_rows: int  # every filtered candidate (the download); the page shows the first TABLE_ROWS
    parts: dict[str, str] = field(default_factory=lambda: dict(PARTS))

_RATE_COLS = ["registered", "sat", "passed", "pass_rate", "pass_rule"]


def scores_view(f: Filters, run: Run | None = None) -> ScoresView:
    run = run or _web_query
    p = _params(f)
    by_level = run("pass_rates_by_level", **p)
    by_province = run("pass_rates_by_province", **p)
    by_site = run("pass_rates_by_site", **p)
    by_school = run("pass_rates_by_school", **p)
    hist = run("score_histogram", **p)
    heat = run("theory_vs_practical", **p)

    rules = rules_text(by_level)
    metrics = []
    for r in by_level.itertuples():
        metrics.append((f"{r.level}合格率", pct(r.pass_rate),
                        f"合格 {r.passed:,} / 实考 {r.sat:,}（报名 {r.registered:,}）。"
                        f"合格规则：{charts.RULE_LABELS.get(r.pass_rule, r.pass_rule)}"))
    metrics += [
        ("报名", f"{int(by_level.registered.sum()):,}", "有效报名（不含已取消）"),
        ("实考", f"{int(by_level.sat.sum()):,}", "合格率的分母"),
        ("合格", f"{int(by_level.passed.sum()):,}", rules),
    ]
    site_chart = _top(_label(by_site, "site_code", "site_name"), "label", "sat")
    school_chart = _top(_label(by_school, "school_code", "school_name"), "label", "sat")
    hist_table = hist.pivot_table(index="bin", columns="part", values="candidates", aggfunc="sum", fill_value=0)
    hist_table = hist_table.reindex(columns=[c for c in PARTS if c in hist_table.columns]).reset_index()
    hist_table["bin"] = hist_table["bin"].map(lambda b: f"{b}-{b + 4}" if b < 95 else "95-100")
    hist_table = hist_table.rename(columns={"bin": "分数段", **PARTS})
    heat_table = heat.pivot_table(index="practical_bin", columns="theory_bin", values="candidates", aggfunc="sum",
                                  fill_value=0).sort_index(ascending=False)
    heat_table.index = [f"实操 {b}-{b + 9 if b < 90 else 100}" for b in heat_table.index]
    heat_table.columns = [f"理论 {b}-{b + 9 if b < 90 else 100}" for b in heat_table.columns]
    return ScoresView(
        metrics=metrics, rules=rules,
        by_level=by_level, by_level_table=_table(by_level, ["level", *_RATE_COLS], rates=("pass_rate",)),
        by_province=by_province,
        by_province_table=_table(by_province, ["province", "level", *_RATE_COLS], rates=("pass_rate",)),
        by_site=site_chart,
        by_site_table=_table(by_site, ["site_code", "site_name", "province", "level", *_RATE_COLS],
                             rates=("pass_rate",)),
        by_school=school_chart,
        by_school_table=_table(by_school, ["school_code", "school_name", "province", "level", *_RATE_COLS],
                               rates=("pass_rate",)),
        histogram=hist, histogram_table=hist_table,
        heatmap=heat, heatmap_table=heat_table.reset_index(names="实操 \\ 理论"),
        table_rows=int(by_level.registered.sum()),
    )


def score_frame(raw: pd.DataFrame, masked: bool) -> pd.DataFrame:
    """candidate_scores rows as the table people read and download: Chinese headers, 合格/不合格, masked."""
    out = raw[SCORE_COLUMNS].copy()
    out["passed"] = _words(out["passed"], "合格", "不合格")
    out["attendance_status"] = out["attendance_status"].fillna("—")
    out = _table(out, SCORE_COLUMNS).rename(columns={"合格": "是否合格"})
    return exports.mask_people(out) if masked else out


def score_table(f: Filters, masked: bool, run: Run | None = None, limit: int | None = None) -> pd.DataFrame:
    """The filtered score table (scoped by the runner's identity); limit None = every row."""
    run = run or _web_query
    return score_frame(run("candidate_scores", **_params(f), limit=limit), masked)


def score_download(f: Filters, masked: bool, ext: str, run: Run | None = None) -> tuple[bytes, str, str]:
    """(bytes, file name, MIME type) of the whole filtered score table as .xlsx or .csv."""
    return _score_file(score_table(f, masked, run), ext), score_download_name(f, ext), MIME[ext]


def _score_file(table: pd.DataFrame, ext: str) -> bytes:
    return exports.to_xlsx(table, "成绩表") if ext == "xlsx" else exports.to_csv(table)


def score_download_name(f: Filters, ext: str) -> str:
    return exports.file_name("成绩表", f.describe(), ext)


def deferred_download(f: Filters, masked: bool, ext: str) -> Callable[[], bytes]:
    """The whole filtered score table as a file, built only when the user clicks (a 1M-row table is
    not built on every rerun), after web.deferred has checked the session (and, for full names and ID
    numbers, that it is still staff's); audited with the rows actually served."""
    run = runner(web.con(), web.scope())

    def build() -> tuple[bytes, dict]:
        table = score_table(f, masked, run)
        return _score_file(table, ext), {"rows": len(table)}

    return web.deferred(build, score_download_name(f, ext),
                        {"filters": f.describe(), "masked": masked, "format": ext}, unmasked=not masked)
