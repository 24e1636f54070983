"""Expected analytics figures computed with pandas straight from the demo export files, without the
warehouse: the independent side of the analytics tests.

The exports are read the hard way, like a person with pandas would: title rows above the header,
GB18030 or UTF-8 (with or without BOM) CSVs, every cell as text.
"""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def read_export(path: Path) -> pd.DataFrame:
    """Every cell as text; the header is the first row with every cell filled (title rows are not)."""
    path = Path(path)
    if path.suffix == ".xlsx":
        raw = pd.read_excel(path, header=None, dtype=str).fillna("")
    else:
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        raw = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False)
    filled = (raw.astype("str").apply(lambda c: c.str.strip()) != "").sum(axis=1)
    header = int(np.flatnonzero(filled.to_numpy() == raw.shape[1])[0])
    frame = raw.iloc[header + 1:].copy()
    frame.columns = [str(c).strip() for c in raw.iloc[header]]
    return frame.reset_index(drop=True)


def pass_rules() -> dict[tuple[str, str], str]:
    plan = tomllib.loads((ROOT / "data" / "exam_plan.toml").read_text(encoding="utf-8"))
    return {(b["code"], lv): rule for b in plan["batch"] for lv, rule in b["pass_rule"].items()}


def _score(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.where(s != "缺考"), errors="coerce")


def candidates(demo_files) -> pd.DataFrame:
    """One row per valid registration of both batches with school, site, attendance, scores and verdict."""
    files = {}
    for kind, path, batch in demo_files:
        files.setdefault(kind, []).append((Path(path), batch))
    schools = read_export(files["schools"][0][0]).rename(columns={
        "院校代码": "school_code", "院校名称": "school_name", "省份": "province"})[["school_code", "school_name", "province"]]
    sites = read_export(files["sites"][0][0]).rename(columns={
        "考点代码": "site_code", "考点名称": "site_name", "省份": "site_province", "所属院校代码": "host_school_code",
        "机位数": "seats"})[["site_code", "site_name", "site_province", "host_school_code", "seats"]]
    sites["seats"] = sites["seats"].astype(int)
    regs = pd.concat([read_export(p) for p, _ in files["registrations"]], ignore_index=True)
    regs = regs[regs["报名状态"] == "正常"].rename(columns={
        "考试批次": "batch", "身份证号": "id_no", "姓名": "name", "级别": "level", "院校代码": "school_code",
        "考点代码": "site_code", "考生类型": "candidate_type", "报名时间": "registered_at", "准考证号": "ticket_no"})
    regs = regs[["batch", "id_no", "name", "level", "school_code", "site_code", "candidate_type", "registered_at",
                 "ticket_no"]]
    att = pd.concat([read_export(p).assign(batch=b) for p, b in files["attendance"]], ignore_index=True)
    att = att.rename(columns={"准考证号": "ticket_no", "签到状态": "attendance"})[["batch", "ticket_no", "attendance"]]
    scores = pd.concat([read_export(p) for p, _ in files["scores"]], ignore_index=True).rename(columns={
        "考试批次": "batch", "准考证号": "ticket_no", "理论成绩": "theory_text", "实操成绩": "practical_text",
        "总成绩": "total_text"})[["batch", "ticket_no", "theory_text", "practical_text", "total_text"]]
    df = (regs.merge(schools, on="school_code", how="left")
          .merge(sites, on="site_code", how="left")
          .merge(att, on=["batch", "ticket_no"], how="left")
          .merge(scores, on=["batch", "ticket_no"], how="left"))
    df["theory"] = _score(df.theory_text)
    df["practical"] = _score(df.practical_text)
    df["total"] = _score(df.total_text)
    score_absent = df.theory_text == "缺考"
    df["sat"] = np.where(df.attendance.notna(), df.attendance.isin(["已签到", "违纪"]),
                         df.theory_text.notna() & ~score_absent)
    rules = pass_rules()
    rule = pd.Series([rules.get((b, lv), "both_parts") for b, lv in zip(df.batch, df.level)], index=df.index)
    meets = np.where(rule == "weighted", 0.4 * df.theory + 0.6 * df.practical >= 60,
                     (df.theory >= 60) & (df.practical >= 60))
    df["passed"] = df.sat & (df.attendance != "违纪") & meets & df.theory.notna()
    df["absent"] = ~df.sat & (df.attendance.notna() | df.theory_text.notna())
    df["pass_rule"] = rule
    df["day"] = pd.to_datetime(df.registered_at).dt.date
    return df


def select(df: pd.DataFrame, batch: str, level=None, province=None, site=None, school=None, candidate_type=None):
    """The shared filters, applied the way the warehouse documents them (province = the school's)."""
    m = df.batch == batch
    for col, value in (("level", level), ("province", province), ("site_code", site), ("school_code", school),
                       ("candidate_type", candidate_type)):
        if value is not None:
            m &= df[col] == value
    return df[m]


def rates(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = df.groupby(keys).agg(registered=("id_no", "size"), sat=("sat", "sum"), passed=("passed", "sum")).reset_index()
    out["pass_rate"] = out.passed / out.sat
    return out


def attendance(df: pd.DataFrame, key: str) -> pd.DataFrame:
    return df.groupby(key).agg(registered=("id_no", "size"), present=("sat", "sum"), absent=("absent", "sum"),
                               violations=("attendance", lambda s: int((s == "违纪").sum()))).reset_index()


def unusual_sites(df: pd.DataFrame, batch: str, level=None, candidate_type=None) -> pd.DataFrame:
    """The documented rule: >= 10 recorded, rate >= 2x national and > national + 2 sqrt(p(1-p)/n)."""
    d = select(df, batch, level=level, candidate_type=candidate_type)
    d = d[d.sat | d.absent]
    p = d.absent.sum() / len(d)
    g = d.groupby("site_code").agg(recorded=("id_no", "size"), absent=("absent", "sum")).reset_index()
    g["rate"] = g.absent / g.recorded
    flagged = g[(g.recorded >= 10) & (g.rate >= 2 * p) & (g.rate > p + 2 * np.sqrt(p * (1 - p) / g.recorded))]
    return flagged.assign(national=p)


# --- driving a page's filters and comparing --------------------------------------------------------------


def pct(x) -> str:
    return f"{x:.1%}"


def steps(cand, batch: str):
    """A filter sequence touching every shared filter; each step keeps the earlier ones."""
    d = cand[(cand.batch == batch) & (cand.level == "中级") & (cand.province == "广东省")]
    site = d.site_code.value_counts().index[0]
    school = d.school_code.value_counts().index[0]
    return [
        ("filters_batch", batch, {"batch": batch}),
        ("filters_level", "中级", {"level": "中级"}),
        ("filters_province", "广东省", {"province": "广东省"}),
        ("filters_candidate_type", "在校生", {"candidate_type": "在校生"}),
        ("filters_site", site, {"site": site}),
        ("filters_site", "全部", {"site": None}),
        ("filters_school", school, {"school": school}),
    ]


def drive(at, cand, check, batch: str = "2023-2") -> None:
    """Default view, then every filter in turn, starting with the batch; `check(at, d)` compares with the
    pandas subset d. (The result pages stay on 2023-1: on the demo's day 2023-2 is not sat yet, and they
    show its phase instead, see test_before_exam.)"""
    params = {"batch": "2023-1"}
    check(at, select(cand, **params))
    for key, value, change in steps(cand, batch):
        at.selectbox(key=key).set_value(value).run()
        assert not at.exception, (key, value, at.exception)
        params.update(change)
        check(at, select(cand, **{k: v for k, v in params.items() if v is not None}))
    assert at.query_params["batch"] in (batch, [batch])
