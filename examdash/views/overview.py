"""总览: the batch's calendar with today marked, and the headline figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from examdash.domain.calendar import Phase
from examdash.domain.money import yuan_text
from examdash.domain.rules import PASS_RULES
from examdash.views.common import Run, batch_phase, pct, window


def stage_of(calendar: pd.DataFrame, day: dt.date) -> str:
    current = calendar[(calendar.start_date <= day) & (calendar.end_date >= day)]
    if len(current):
        return "、".join(current.stage)
    later = calendar[calendar.start_date > day].sort_values("start_date")
    if len(later):
        first = later.iloc[0]
        return f"距「{first.stage}」还有 {(first.start_date - day).days} 天"
    return "本批次日程已结束"


@dataclass
class Overview:
    batch_name: str
    today: dt.date
    phase: Phase
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


def build(run: Run, batch: str, today: dt.date) -> Overview:
    cal = _dates(run("batch_calendar", batch=batch), "start_date", "end_date")
    by_level = run("pass_rates_by_level", batch=batch)
    totals = run("overview_totals", batch=batch).iloc[0]
    rate = totals.passed / totals.sat if totals.sat else None
    win = window(run, batch)
    fees = run("fee_totals", batch=batch).iloc[0]
    balance = int(fees.balance_fen)
    rules = "；".join(f"{r.level}：{PASS_RULES[r.pass_rule]}" for r in by_level.itertuples()) or "—"
    phase = batch_phase(run, batch, today)
    if phase.has_results:
        results = [("实考人数", f"{totals.sat:,}", "已签到或有成绩（不含缺考）"),
                   ("合格率", pct(rate), f"合格 {totals.passed:,} / 实考 {totals.sat:,}。合格规则：{rules}")]
    else:
        results = [("实考人数", "未考试", phase.text), ("合格率", "未考试", f"{phase.text}。合格规则：{rules}")]
    remaining = win.remaining(today)
    headline = [
        ("报名人数", f"{totals.registered:,}", "有效报名（不含已取消）"),
        *results,
        ("考点 / 院校", f"{totals.sites:,} / {totals.schools:,}", "有报名的考点数与院校数"),
        ("待处理复核", f"{totals.open_review_items:,}", f"成绩公示期：{win.start:%m-%d} 至 {win.end:%m-%d}，{remaining}"),
        ("公示期", remaining, f"{win.span}（剩余天数含今天）；颁发证书：{win.cert_from:%Y-%m-%d} 起"),
        ("费用结余（元）", yuan_text(balance),
         f"本批次已到账 {yuan_text(int(fees.paid_fen))} − 应收 {yuan_text(int(fees.charged_fen))}；负数为学校尚欠。"
         f"另有 {totals.unmatched_payments:,} 笔到账（{yuan_text(int(totals.unmatched_fen))} 元）待认领"),
    ]
    table = cal.assign(开始=cal.start_date.where(~cal.open_start), 结束=cal.end_date.where(~cal.open_end))[["stage", "开始", "结束"]]
    table = table.rename(columns={"stage": "阶段"})
    level_table = by_level.assign(
        缺考=by_level.registered - by_level.sat, 合格率=by_level.pass_rate.map(pct),
        合格规则=by_level.pass_rule.map(PASS_RULES),
    ).rename(columns={"level": "级别", "registered": "报名", "sat": "实考", "passed": "合格"})[
        ["级别", "报名", "实考", "缺考", "合格", "合格率", "合格规则"]]
    return Overview(win.batch_name, today, phase, stage_of(cal, today), headline, cal, table, by_level, level_table)
