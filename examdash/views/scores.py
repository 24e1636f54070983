"""成绩: pass rates by level, province, site and school (denominators and rule beside each), score
distributions, theory against practical, and the filtered score table with its downloads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from examdash.domain.rules import PASS_RULES
from examdash.views import exports, offload
from examdash.views.common import (
    Filters,
    Run,
    display_table,
    pct,
    rules_text,
    top_rows,
    with_label,
    yes_no,
)

TABLE_ROWS = 1000  # rows of the score table shown on the page; downloads carry every filtered row


PARTS = {"theory": "理论成绩", "practical": "实操成绩", "total": "总成绩"}


SCORE_COLUMNS = ["batch_code", "ticket_no", "name", "id_no", "level", "school_code", "school_name", "province",
                 "site_code", "site_name", "candidate_type", "attendance_status", "theory", "practical", "total",
                 "passed", "pass_rule", "verdict_mismatch"]


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


def build(run: Run, f: Filters) -> ScoresView:
    p = f.params()
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
                        f"合格规则：{PASS_RULES.get(r.pass_rule, r.pass_rule)}"))
    metrics += [
        ("报名", f"{int(by_level.registered.sum()):,}", "有效报名（不含已取消）"),
        ("实考", f"{int(by_level.sat.sum()):,}", "合格率的分母"),
        ("合格", f"{int(by_level.passed.sum()):,}", rules),
    ]
    site_chart = top_rows(with_label(by_site, "site_code", "site_name"), "label", "sat")
    school_chart = top_rows(with_label(by_school, "school_code", "school_name"), "label", "sat")
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
        by_level=by_level, by_level_table=display_table(by_level, ["level", *_RATE_COLS], rates=("pass_rate",)),
        by_province=by_province,
        by_province_table=display_table(by_province, ["province", "level", *_RATE_COLS], rates=("pass_rate",)),
        by_site=site_chart,
        by_site_table=display_table(by_site, ["site_code", "site_name", "province", "level", *_RATE_COLS],
                             rates=("pass_rate",)),
        by_school=school_chart,
        by_school_table=display_table(by_school, ["school_code", "school_name", "province", "level", *_RATE_COLS],
                               rates=("pass_rate",)),
        histogram=hist, histogram_table=hist_table,
        heatmap=heat, heatmap_table=heat_table.reset_index(names="实操 \\ 理论"),
        table_rows=int(by_level.registered.sum()),
    )


def score_frame(raw: pd.DataFrame, masked: bool) -> pd.DataFrame:
    """candidate_scores rows as the table people read and download: Chinese headers, 合格/不合格, masked."""
    out = raw[SCORE_COLUMNS].copy()
    out["passed"] = yes_no(out["passed"], "合格", "不合格")
    out["attendance_status"] = out["attendance_status"].fillna("—")
    out = display_table(out, SCORE_COLUMNS).rename(columns={"合格": "是否合格"})
    return exports.mask_people(out) if masked else out


def score_table(run: Run, f: Filters, masked: bool, limit: int | None = None) -> pd.DataFrame:
    """The filtered score table (scoped by the runner's identity); limit None = every row."""
    return score_frame(run("candidate_scores", **f.params(), limit=limit), masked)


def score_download(run: Run, f: Filters, masked: bool, ext: str) -> tuple[bytes, str, str]:
    """(bytes, file name, MIME type) of the whole filtered score table as .xlsx or .csv."""
    return _score_file(score_table(run, f, masked), ext), score_download_name(f, ext), exports.MIME[ext]


def _score_file(table: pd.DataFrame, ext: str) -> bytes:
    return exports.to_xlsx(table, "成绩表") if ext == "xlsx" else exports.to_csv(table)


def score_download_name(f: Filters, ext: str) -> str:
    return exports.file_name("成绩表", f.describe(), ext)


def score_file(run: Run, f: Filters, masked: bool, ext: str) -> Callable[[], tuple[bytes, dict]]:
    """The whole filtered score table as a file, made when the download is clicked (a 1M-row table is
    not built on every rerun); `run` must not need the session. Returns the rows served, for the audit."""
    def build() -> tuple[bytes, dict]:
        table = score_table(run, f, masked)
        return _score_file(table, ext), {"rows": len(table)}

    return build


def score_xlsx_job(run: Run, f: Filters, masked: bool):
    """The whole filtered score table as .xlsx, for a background build (web.file_job): the query runs
    here, the workbook is written in a child process (offload.py). Returns build(progress) -> (bytes,
    what was served)."""
    def build(progress) -> tuple[bytes, dict]:
        progress(0.0, "查询成绩")
        table = score_table(run, f, masked)
        return offload.build("table_xlsx", table, "成绩表", progress=progress), {"rows": len(table)}

    return build
