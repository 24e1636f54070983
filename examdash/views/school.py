"""本校成绩: a school leader's results beside the province's and the nation's, and their candidates.

The school comes from the signed-in identity only; every scoped query also binds it as
$scope_school, so even a wrong parameter cannot reach another school's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from examdash.domain.rules import PASS_RULES
from examdash.views import exports
from examdash.views.common import Run, pct
from examdash.views.scores import score_frame


@dataclass
class SchoolView:
    school_code: str
    school_name: str
    province: str | None
    metrics: list[tuple[str, str, str]]
    comparison: pd.DataFrame  # level x (本校 / 本省 / 全国) pass rates, for the chart
    comparison_table: pd.DataFrame
    withheld: str | None = None  # why some provincial figures are not shown


def _school_province(run: Run, code: str) -> str | None:
    options = run("school_profile", school=code)
    return options["province"].iat[0] if len(options) else None


def build(run: Run, user, batch: str) -> SchoolView:
    code = user.school_code
    own = run("school_results_by_level", batch=batch, school=code)
    province = _school_province(run, code)
    prov = run("peer_rates_by_level", batch=batch, province=province)
    nation = run("peer_rates_by_level", batch=batch, province=None)
    rows = []
    for label, df in (("本校", own), (f"本省（{province}）", prov), ("全国", nation)):
        for r in df.itertuples():
            rows.append({"范围": label, "级别": r.level, "报名": r.registered, "实考": r.sat, "合格": r.passed,
                         "合格率": r.pass_rate})
    comp = pd.DataFrame(rows, columns=["范围", "级别", "报名", "实考", "合格", "合格率"])
    rules = "；".join(f"{r.level}：{PASS_RULES[r.pass_rule]}" for r in nation.itertuples())
    table = comp.assign(合格率=comp["合格率"].map(pct))
    missing = [lv for lv in own.level if lv not in set(prov.level)]
    withheld = (f"本省{'、'.join(missing)}的参考院校不足 3 所，不显示本省对比（以免推算出其他院校的成绩）。"
                if missing else None)
    total_reg, total_sat, total_pass = (int(own[c].sum()) for c in ("registered", "sat", "passed"))
    metrics = [
        ("本校报名", f"{total_reg:,}", "有效报名（不含已取消）"),
        ("实考", f"{total_sat:,}", f"缺考 {int(own['absent'].sum()):,} 人"),
        ("合格", f"{total_pass:,}", f"合格规则：{rules}"),
        ("合格率", pct(total_pass / total_sat if total_sat else None), "合格 / 实考"),
    ]
    return SchoolView(code, user.school_name or code, province, metrics, comp, table, withheld)


def candidates(run: Run, user, batch: str) -> pd.DataFrame:
    """The school's own candidates with their latest scores, in full (they are the school's own)."""
    return score_frame(run("candidate_scores", batch=batch, school=user.school_code), masked=False)


def downloads(user, batch: str, table: pd.DataFrame) -> dict:
    """ext -> (build, file name, MIME type) of the school's score table (built on click)."""
    return exports.table_files(table, "本校成绩表", f"{user.school_code}_{batch}", "成绩")
