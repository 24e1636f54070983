"""成绩复核申请 (school leaders): file the school's review request during the publicity window, one exactly
chosen candidate at a time, each with its own reason; follow its items; sign off for certificates."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from examdash.domain import reviews
from examdash.domain.calendar import Window
from examdash.domain.ids import fold_typed
from examdash.views.common import Run, window
from examdash.views.reviews import queue, score_text, verdict

REASONS = reviews.REASONS
MAX_TEXT = reviews.MAX_TEXT


@dataclass(frozen=True)
class Candidate:
    """One of the school's candidates in the batch, as the filing form shows it."""

    ticket: str
    name: str
    verdict: str
    label: str
    filed: str | None = None  # status of its review item once it is in the school's request


@dataclass
class SchoolReviews:
    school_code: str
    school_name: str
    window: Window
    today: dt.date
    message: str
    can_file: bool
    candidates: dict[str, Candidate]  # ticket -> the school's own candidates of the batch, filed ones included
    items_table: pd.DataFrame
    open_items: int
    certificate: dict | None
    can_sign: bool
    sign_text: str
    signed: dict[str, str]  # party -> 已签发 (with the date) / 未签发

    @property
    def options(self) -> dict[str, str]:
        """ticket -> label, the candidates not yet in the request."""
        return {t: c.label for t, c in self.candidates.items() if c.filed is None}

    def label(self, ticket: str) -> str:
        c = self.candidates.get(ticket)
        return c.label if c else ticket


def _signed_text(value) -> str:
    return "未签发" if value is None or pd.isna(value) else f"已签发（{pd.Timestamp(value):%m-%d}）"


def _candidates(cands: pd.DataFrame, q: pd.DataFrame) -> dict[str, Candidate]:
    filed = dict(zip(q.ticket_no, q.status)) if len(q) else {}
    out = {}
    for r in cands.to_dict("records"):
        result = verdict(r)
        label = (f"{r['ticket_no']} {r['name']}（{r['level']}，理论 {score_text(r['theory'])} / "
                 f"实操 {score_text(r['practical'])}，{result}）")
        out[r["ticket_no"]] = Candidate(r["ticket_no"], r["name"], result, label, filed.get(r["ticket_no"]))
    return out


def build(run: Run, user, batch: str, today: dt.date) -> SchoolReviews:
    win = window(run, batch)
    q = queue(run, batch, win, today)
    candidates = _candidates(run("review_candidates", batch=batch), q)
    items = pd.DataFrame({
        "复核项": q.item_id, "准考证号": q.ticket_no, "姓名": q["name"], "级别": q.level, "复核原因": q.reason,
        "说明": q.reason_text, "提交时间": q.filed_at, "状态": q.status, "结论说明": q.decision_note,
        "处理时间": q.decided_at, "当前理论": q.theory, "当前实操": q.practical, "当前结果": q.verdict,
    }) if len(q) else pd.DataFrame(columns=["复核项", "准考证号", "姓名", "状态"])
    open_n = int(q.is_open.sum()) if len(q) else 0
    certs = run("certificate_status", batch=batch, today=today)
    cert = certs.iloc[0].to_dict() if len(certs) else None
    if cert is None:
        can_sign, sign_text = False, f"本校在 {batch} 批次没有考生。"
    elif not win.is_over(today):
        can_sign, sign_text = False, f"公示期结束后（{win.cert_from:%Y-%m-%d} 起）方可签发证书。"
    elif cert["open_items"]:
        can_sign, sign_text = False, f"本校尚有 {cert['open_items']} 项复核未结，结清后方可签发。"
    elif not pd.isna(cert["school_signed_at"]):
        can_sign, sign_text = False, f"本校已于 {pd.Timestamp(cert['school_signed_at']):%Y-%m-%d %H:%M} 签发。"
    else:
        can_sign, sign_text = True, "公示期已结束且无未结复核，可以签发。"
    return SchoolReviews(
        school_code=user.school_code, school_name=user.school_name or user.school_code, window=win, today=today,
        message=win.describe(today), can_file=win.is_open(today), candidates=candidates, items_table=items,
        open_items=open_n, certificate=cert, can_sign=can_sign, sign_text=sign_text,
        signed={"org": _signed_text(cert["org_signed_at"] if cert else None),
                "school": _signed_text(cert["school_signed_at"] if cert else None)},
    )


NOT_FOUND = "未找到准考证号或姓名完全一致的本校考生"


@dataclass(frozen=True)
class Lookup:
    """What one 查找 found: the candidates that may be added (ticket order) and what to tell the user."""

    query: str
    tickets: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


ticket_key = fold_typed  # a ticket number as typed, compared as stored


def _name_key(text) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


def find_candidates(text: str, candidates: Mapping[str, Candidate], pending: Iterable[str] = ()) -> Lookup:
    """The school's candidates whose ticket number, or else whose name, equals `text` exactly.

    A search box that matches parts of numbers offers dozens of candidates for one typed ticket, and
    one click files them all; here a part of a number or of a name finds nobody. `candidates` are the
    school's own (SchoolReviews.candidates), so nothing of another school can be found.
    """
    query = str(text or "").strip()
    if not _name_key(query):
        return Lookup(query, notes=("请输入完整的准考证号或考生姓名",))
    key = ticket_key(query)
    hits = [t for t in candidates if ticket_key(t) == key]
    if not hits:
        name = _name_key(query)
        hits = sorted(t for t, c in candidates.items() if _name_key(c.name) == name)
    if not hits:
        return Lookup(query, notes=(f"{NOT_FOUND}：「{query}」",))
    pending = set(pending)
    notes, addable = [], []
    for t in hits:
        c = candidates[t]
        if c.filed is not None:
            notes.append(f"{t} {c.name} 已在本校复核申请中（状态：{c.filed}），不能再次添加")
        elif t in pending:
            notes.append(f"{t} {c.name} 已在待提交列表中")
        else:
            addable.append(t)
    if len(addable) > 1:
        notes.append(f"有 {len(addable)} 名本校考生姓名为「{candidates[addable[0]].name}」，请按准考证号选择其中一名")
    return Lookup(query, tuple(addable), tuple(notes))


@dataclass(frozen=True)
class PendingRow:
    """A candidate on the pending list with its own reason and note, as typed."""

    ticket: str
    reason: str | None
    text: str | None = None


def pending_problems(rows: Sequence[PendingRow]) -> list[str]:
    """What stops the pending list from going to the confirmation step; empty when it can go."""
    if not rows:
        return ["请先查找考生并加入待提交列表"]
    problems = []
    for r in rows:
        if not r.reason:
            problems.append(f"准考证号 {r.ticket}：请选择复核原因")
            continue
        try:
            # the same per-item rules file_request applies (其他 needs a note, note length)
            reviews.check_item(reviews.ItemInput(r.ticket, r.reason, r.text))
        except reviews.ReviewError as exc:
            problems.append(str(exc))
    return problems


def confirm_table(rows: Sequence[PendingRow], candidates: Mapping[str, Candidate]) -> pd.DataFrame:
    """Exactly who will be filed, for the confirmation step."""
    found = [candidates.get(r.ticket) for r in rows]
    return pd.DataFrame({
        "准考证号": [r.ticket for r in rows], "姓名": [c.name if c else "—" for c in found],
        "当前结果": [c.verdict if c else "—" for c in found], "复核原因": [r.reason for r in rows],
        "说明": [(r.text or "").strip() for r in rows],
    }, dtype="str")


def file(con, user, batch: str, rows: Sequence[PendingRow]) -> tuple[bool, str]:
    """File the confirmed rows in one request call: all of them or, on any refusal, none."""
    if not rows:
        return False, "请先查找考生并加入待提交列表"
    try:
        request_id = reviews.file_request(con, user, batch, [(r.ticket, r.reason, r.text) for r in rows])
    except reviews.ReviewError as exc:
        return False, str(exc)
    return True, f"已提交：{len(rows)} 名考生已列入本校复核申请（申请号 {request_id}），请等待考务人员处理"


def sign(con, user, batch: str) -> tuple[bool, str]:
    try:
        reviews.sign_off(con, user, batch)
    except reviews.ReviewError as exc:
        return False, str(exc)
    return True, "本校已签发；双方签发完成后即可生成电子证书"

