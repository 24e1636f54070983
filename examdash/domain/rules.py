"""The fixed vocabularies and formulas of the notice and the platform, each defined once.

Python reads them from here; SQL from the tables the store fills from here every time it opens the
database (`review_statuses`, `score_rule`), so a query never spells a status or a weight itself.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

LEVELS = ("初级", "中级")
# The national times of the two levels on the exam day (the notice, 考试计划): both may use the same room.
LEVEL_TIMES = {"中级": ("08:30", "11:30"), "初级": ("14:00", "16:30")}
CANDIDATE_TYPES = ("在校生", "社会考生")
ATTENDANCE_STATUSES = ("已签到", "缺考", "违纪")
SCHOOL_TYPES = ("本科", "高职", "中职")

# Pass rules, set per batch and level in data/exam_plan.toml; the words shown beside every pass rate.
PASS_RULES = {"both_parts": "理论与实操均≥60分", "weighted": "40%理论+60%实操≥60分"}
PASS_MARK = Decimal("60")
THEORY_WEIGHT, PRACTICAL_WEIGHT = Decimal("0.4"), Decimal("0.6")  # 总成绩 as the platform's score sheet has it

# The publicity week's review items: open until one of the final outcomes.
REVIEW_REASONS = ("理论", "实操", "总分", "缺考误判", "其他")
REVIEW_OPEN = ("已提交", "复核中")
REVIEW_FINAL = ("维持", "更正", "驳回")
REVIEW_STATUSES = REVIEW_OPEN + REVIEW_FINAL

ROLES = {"admin": "管理员", "staff": "考务人员", "school": "学校负责人", "site": "考点负责人"}
STAFF_ROLES = ("admin", "staff")


def weighted(theory, practical):
    """40% theory + 60% practical, unrounded, on numbers or numpy / pandas arrays (the weighted rule compares
    this with PASS_MARK)."""
    return float(THEORY_WEIGHT) * theory + float(PRACTICAL_WEIGHT) * practical


def weighted_total(theory, practical) -> Decimal:
    """总成绩: 40% theory + 60% practical, one decimal, halves rounded up."""
    total = THEORY_WEIGHT * Decimal(str(theory)) + PRACTICAL_WEIGHT * Decimal(str(practical))
    return total.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
