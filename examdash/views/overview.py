"""What pages show, computed from named queries: one call per page, frames ready to render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from examdash import web
from examdash.domain import plan
from examdash.web import charts
from examdash.domain.fees import yuan_text as fee_yuan


def pct(x) -> str:
    return "—" if x is None or pd.isna(x) else f"{x:.1%}"


def stage_of(calendar: pd.DataFrame, day: dt.date) -> str:
    current = calendar[(calendar.start_date <= day) & (calendar.end_date >= day)]
    if len(current):
        return "、".join(current.stage)
    later = calendar[calendar.start_date > day].sort_values("start_date")
    if len(later):
        first = later.iloc[0]
        return f"距「{first.stage}」还有 {(first.start_date - day).days} 天"
    return "本批次日程已结束"


def batch_phase(batch: str) -> plan.Phase:
    """Where the batch stands today: pages show this instead of empty figures before the exam."""
    b = web.query("batches")
    row = b[b.batch_code == batch].iloc[0]
    d = lambda c: pd.Timestamp(row[c]).date()  # noqa: E731
    return plan.phase(d("exam_date"), d("reg_deadline"), d("publicity_start"), d("publicity_end"), d("cert_from"),
                      web.today())


def batch_name(batch: str) -> str:
    b = web.query("batches")
    return b.loc[b.batch_code == batch, "batch_name"].iat[0]


@dataclass
class Overview:
    batch_name: str
    today: dt.date
    phase: plan.Phase
    stage_now: str
    headline: list[tuple[str, str, str]]
    calendar: pd.DataFrame
    calendar_table: pd.DataFrame
    by_level: pd.DataFrame
    by_level_table: pd.DataFrame


def _dates(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for c in cols:
        df[c] = pd.to_datetime(df[c]).dt.date
    return df


def overview(batch: str) -> Overview:
    today = web.today()
    batches = web.query("batches")
    cal = _dates(web.query("batch_calendar", batch=batch), "start_date", "end_date")
    by_level = web.query("pass_rates_by_level", batch=batch)
    totals = web.query("overview_totals", batch=batch).iloc[0]
    rate = totals.passed / totals.sat if totals.sat else None
    window = web.query("review_window", batch=batch, today=str(today)).iloc[0]
    if window.state == "before":
        window_text = f"{window.days_to_open} 天后开始"
    elif window.state == "open":
        window_text = f"剩余 {window.days_left} 天"
    else:
        window_text = "已结束"
    fees = web.query("fee_totals", batch=batch).iloc[0]
    balance = int(fees.balance_fen)
    rules = "；".join(f"{r.level}：{charts.RULE_LABELS[r.pass_rule]}" for r in by_level.itertuples())
    phase = batch_phase(batch)
    if phase.has_results:
        results = [("实考人数", f"{totals.sat:,}", "已签到或有成绩（不含缺考）"),
                   ("合格率", pct(rate), f"合格 {totals.passed:,} / 实考 {totals.sat:,}。合格规则：{rules}")]
    else:
        results = [("实考人数", "未考试", phase.text), ("合格率", "未考试", f"{phase.text}。合格规则：{rules}")]
    headline = [
        ("报名人数", f"{totals.registered:,}", "有效报名（不含已取消）"),
        *results,
        ("考点 / 院校", f"{totals.sites:,} / {totals.schools:,}", "有报名的考点数与院校数"),
        ("待处理复核", f"{totals.open_review_items:,}",
         f"成绩公示期：{window.publicity_start:%m-%d} 至 {window.publicity_end:%m-%d}，{window_text}"),
        ("公示期", window_text, f"{window.publicity_start:%Y-%m-%d} 至 {window.publicity_end:%Y-%m-%d}（剩余天数含今天）；"
                              f"颁发证书：{window.cert_from:%Y-%m-%d} 起"),
        ("费用结余（元）", fee_yuan(balance),
         f"本批次已到账 {fee_yuan(int(fees.paid_fen))} − 应收 {fee_yuan(int(fees.charged_fen))}；负数为学校尚欠。"
         f"另有 {totals.unmatched_payments:,} 笔到账（{fee_yuan(int(totals.unmatched_fen))} 元）待认领"),
    ]
    table = cal.assign(开始=cal.start_date.where(~cal.open_start), 结束=cal.end_date.where(~cal.open_end))[["stage", "开始", "结束"]]
    table = table.rename(columns={"stage": "阶段"})
    level_table = by_level.assign(
        缺考=by_level.registered - by_level.sat, 合格率=by_level.pass_rate.map(pct),
        合格规则=by_level.pass_rule.map(charts.RULE_LABELS),
    ).rename(columns={"level": "级别", "registered": "报名", "sat": "实考", "passed": "合格"})[
        ["级别", "报名", "实考", "缺考", "合格", "合格率", "合格规则"]]
    name = batches.loc[batches.batch_code == batch, "batch_name"].iat[0]
    return Overview(name, today, phase, stage_of(cal, today), headline, cal, table, by_level, level_table)
