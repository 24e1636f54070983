"""考生成绩查询: what the candidates' lookup page shows (examdash/web/lookup_route.py serves it as plain HTTP;
examdash/domain/lookup.py has the rules: same answer for any miss, throttled, a request event each)."""

from __future__ import annotations

from dataclasses import dataclass, field

from examdash.domain import lookup, plan
from examdash.store import db

EMPTY = "—"


@dataclass(frozen=True)
class Answer:
    kind: str  # "ok", "miss" (the one message for any miss), "refused" (when to try again), "busy"
    message: str = ""
    results: list[list[tuple[str, str]]] = field(default_factory=list)  # per level: (label, text) rows
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Info:
    windows: list[str]  # when each batch's results can be looked up
    contact: str  # 考务咨询 phone and QQ group, or ""


def score(v: float | None) -> str:
    """A score as printed on the result: one decimal, — when there is none."""
    return EMPTY if v is None else f"{v:.1f}"


def _scores(theory, practical, total) -> str:
    return f"理论 {score(theory)} / 实操 {score(practical)} / 总分 {score(total)}"


def _rows(f: lookup.Found) -> list[tuple[str, str]]:
    rows = [("考试批次", f.batch_name), ("准考证号", f.ticket_no), ("姓名", f.name), ("级别", f.level),
            ("理论成绩", score(f.theory)), ("实操成绩", score(f.practical)), ("总成绩", score(f.total)),
            ("结果", f.verdict), ("成绩复核", f.review)]
    if f.before is not None:
        rows.append(("复核前成绩", _scores(*f.before)))
        rows.append(("复核后成绩", _scores(f.theory, f.practical, f.total)))
    if f.review_note:
        rows.append(("复核说明", f.review_note))
    if f.review_date is not None:
        rows.append(("复核结论日期", f"{f.review_date:%Y-%m-%d}"))
    rows += [("证书", f.certificate), ("成绩公示期", f.publicity)]
    return rows


def _contact() -> str:
    found = plan.current().contact
    return found.line() if found is not None else ""


def info(con) -> Info:
    """What the form page shows beside the form: the dates each batch can be looked up, the contact."""
    index = lookup.index(con, db.lake_state(con))
    lines = [f"{name}：成绩公示 {start:%Y-%m-%d} 至 {end:%Y-%m-%d}，{start:%m-%d} 起可查" for name, start, end in index.windows]
    return Info(lines, _contact())


def answer(con, ticket, id_number, client: str | None) -> Answer:
    """The result page's content for a posted form."""
    if not str(ticket or "").strip() or not str(id_number or "").strip():
        return Answer("miss", "请填写准考证号和 18 位身份证号。")
    try:
        found = lookup.find(con, ticket, id_number, client)
    except lookup.LookupRefused as exc:
        return Answer("refused", str(exc))
    except (db.DbError, RuntimeError):
        return Answer("busy", "系统繁忙，请稍后再试。")
    if not found:
        return Answer("miss", lookup.NOT_FOUND)
    notes = ["姓名已部分隐去。对成绩有异议的，请在成绩公示期内联系报名院校，由院校统一提交成绩复核申请。"]
    return Answer("ok", "", [_rows(f) for f in found], notes)

