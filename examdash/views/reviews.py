"""What the two review pages (复核 for staff, 成绩复核申请 for school leaders) show and do.

Frames come from named queries through web.query (scoped and cached); actions call examdash.reviews
with the signed-in identity and return (ok, message) for the page to show.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from examdash import web
from examdash.domain import reviews
from examdash.views import exports
from examdash.web import charts
from examdash.domain.ids import mask_name

STATUS_COLORS = {"已提交": "#4C78A8", "复核中": "#F58518", "维持": "#54A24B", "更正": "#E45756", "驳回": "#9D755D"}
ACTIONS = {"复核中": "开始复核（复核中）", "维持": "维持（成绩不变）", "更正": "更正（录入新成绩）", "驳回": "驳回（不予复核）"}


def _verdict(row) -> str:
    if row.get("attendance_status") == "缺考":
        return "缺考"
    if pd.isna(row.get("passed")):
        return "—"
    return "合格" if row["passed"] else "不合格"


def _score_text(v) -> str:
    return "—" if v is None or pd.isna(v) else f"{float(v):g}"


def _window(batch: str) -> reviews.Window:
    b = web.query("batches")
    row = b[b.batch_code == batch].iloc[0]
    d = lambda c: pd.Timestamp(row[c]).date()  # noqa: E731
    return reviews.Window(batch, row.batch_name, d("publicity_start"), d("publicity_end"), d("cert_from"))


def window_line(win: reviews.Window, today: dt.date) -> str:
    """Short countdown text: the window's state and the days to certificates."""
    state = win.state(today)
    if state == "before":
        head = f"成绩公示期 {win.span}，{win.days_to_open(today)} 天后开始"
    elif state == "open":
        head = f"成绩公示期 {win.span}，剩余 {win.days_left(today)} 天（含今天）"
    else:
        head = f"成绩公示期 {win.span} 已结束"
    cert = (f"距颁发证书（{win.cert_from:%m-%d} 起）还有 {win.days_to_cert(today)} 天" if today < win.cert_from
            else f"证书自 {win.cert_from:%Y-%m-%d} 起颁发")
    return f"{head}；{cert}"


def _queue(batch: str, win: reviews.Window, today: dt.date) -> pd.DataFrame:
    q = web.query("review_queue", batch=batch)
    q = reviews.queue_ages(q, win, today) if len(q) else q.assign(age_days=pd.Series(dtype="Int64"))
    q["verdict"] = [_verdict(r) for r in q.to_dict("records")]
    return q


def _open_table(q: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "复核项": q.item_id, "申请号": q.request_id, "院校代码": q.school_code, "院校名称": q.school_name,
        "准考证号": q.ticket_no, "姓名": q["name"].map(mask_name), "级别": q.level, "复核原因": q.reason,
        "说明": q.reason_text,
        "状态": q.status, "提交时间": q.filed_at, "已等待（天）": q.age_days, "理论": q.theory, "实操": q.practical,
        "总分": q.total, "当前结果": q.verdict, "提交人": q.filed_by,
    })


def _closed_table(q: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "复核项": q.item_id, "申请号": q.request_id, "院校代码": q.school_code, "院校名称": q.school_name,
        "准考证号": q.ticket_no, "姓名": q["name"].map(mask_name), "复核原因": q.reason, "结论": q.status,
        "结论说明": q.decision_note,
        "处理人": q.decided_by, "处理时间": q.decided_at, "用时（天）": q.age_days, "新成绩版本": q.new_version,
        "理论": q.theory, "实操": q.practical, "当前结果": q.verdict,
    })


def _signed(at: pd.Series, by: pd.Series) -> pd.Series:
    return pd.Series([("未签发" if pd.isna(t) else f"{pd.Timestamp(t):%m-%d %H:%M}（{w}）") for t, w in zip(at, by)],
                     index=at.index, dtype="str")


def _certificates_table(c: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "院校代码": c.school_code, "院校名称": c.school_name, "省份": c.province, "报名": c.registered,
        "合格（可发证书）": c.passed, "复核项": c.review_items, "未结复核": c.open_items,
        "培训评价组织签发": _signed(c.org_signed_at, c.org_signed_by),
        "学校签发": _signed(c.school_signed_at, c.school_signed_by), "状态": c.status_text,
        "可颁发": c.can_issue.map({True: "是", False: "否"}),
    })


@dataclass
class StaffReviews:
    window: reviews.Window
    today: dt.date
    window_text: str
    metrics: list[tuple[str, str, str]]
    open_items: pd.DataFrame
    open_table: pd.DataFrame
    closed_table: pd.DataFrame
    by_school: pd.DataFrame
    tickets: list[str]
    events_table: pd.DataFrame
    refusals_table: pd.DataFrame
    certificates_table: pd.DataFrame
    signable: dict[str, str]  # school_code -> label, schools the organisation can sign for now


def staff_view(batch: str) -> StaffReviews:
    web.require("admin", "staff")
    today = web.today()
    win = _window(batch)
    q = _queue(batch, win, today)
    open_q = q[q.is_open.astype(bool)] if len(q) else q
    closed_q = q[~q.is_open.astype(bool)] if len(q) else q
    counts = q.status.value_counts() if len(q) else pd.Series(dtype="int64")
    n = lambda s: int(counts.get(s, 0))  # noqa: E731
    certs = web.query("certificate_status", batch=batch, today=today)
    ready = int(certs.can_issue.sum()) if len(certs) else 0
    oldest = int(open_q.age_days.max()) if len(open_q) else 0
    metrics = [
        ("待处理复核项", f"{len(open_q):,}", f"已提交 {n('已提交')}，复核中 {n('复核中')}；最久已等待 {oldest} 天"),
        ("已结论", f"{len(closed_q):,}", f"维持 {n('维持')}，更正 {n('更正')}，驳回 {n('驳回')}"),
        ("提出申请的院校", f"{q.school_code.nunique() if len(q) else 0:,}", "每校每批次一份申请，可列多名考生"),
        ("公示期剩余", {"before": f"{win.days_to_open(today)} 天后开始", "open": f"{win.days_left(today)} 天",
                    "closed": "已结束"}[win.state(today)], f"成绩公示期 {win.span}（含首尾两天）"),
        ("距颁发证书", f"{win.days_to_cert(today)} 天" if today < win.cert_from else "已开始",
         f"{win.cert_from:%Y-%m-%d} 起；须无未结复核且双方签发"),
        ("可颁发证书院校", f"{ready:,} / {len(certs):,}", "公示期已过、无未结复核、培训评价组织与学校均已签发"),
    ]
    if len(q):
        by_school = (q.assign(院校=q.school_code + " " + q.school_name.fillna(""),
                              状态=pd.Categorical(q.status, categories=list(reviews.STATUSES), ordered=True))
                     .groupby(["院校", "状态"], observed=True).size().rename("复核项").reset_index())
        by_school["状态"] = by_school["状态"].astype("str")
    else:
        by_school = pd.DataFrame(columns=["院校", "状态", "复核项"])
    events = web.query("review_events", batch=batch)
    events_table = events.rename(columns={
        "event_at": "时间", "actor": "操作人", "request_id": "申请号", "item_id": "复核项", "school_code": "院校代码",
        "ticket_no": "准考证号", "from_status": "原状态", "to_status": "新状态", "note": "说明"})
    refusals = web.query("review_refusals", batch=batch).rename(columns={
        "event_at": "时间", "actor": "操作人", "action": "操作", "school_code": "院校代码", "target": "对象",
        "reason": "拒绝原因"})
    refusals["操作"] = refusals["操作"].map({"file": "提交复核申请", "decide": "复核处理", "signoff": "证书签发"}).fillna(
        refusals["操作"])
    signable = {}
    if win.is_over(today) and len(certs):
        ok = certs[(certs.open_items == 0) & certs.org_signed_at.isna()]
        signable = dict(zip(ok.school_code, ok.school_code + " " + ok.school_name.fillna("")))
    return StaffReviews(
        window=win, today=today, window_text=window_line(win, today), metrics=metrics, open_items=open_q,
        open_table=_open_table(open_q), closed_table=_closed_table(closed_q), by_school=by_school,
        tickets=sorted(q.ticket_no.unique().tolist()) if len(q) else [], events_table=events_table,
        refusals_table=refusals, certificates_table=_certificates_table(certs), signable=signable,
    )


def by_school_chart(by_school: pd.DataFrame):
    """Review items per school, stacked by status, one colour per status whatever statuses occur."""
    fig = charts.bar(by_school, "院校", "复核项", title="各院校复核项（按状态）", x_title="院校", y_title="复核项",
                     color="状态")
    for trace in fig.data:
        trace.marker.color = STATUS_COLORS.get(trace.name)
    fig.update_layout(barmode="stack")
    if len(by_school) and by_school.groupby("院校")["复核项"].sum().max() <= 10:
        fig.update_yaxes(dtick=1)
    return fig


def item_label(row) -> str:
    # Staff identify candidates by ticket; names stay masked outside the candidate's own school (DESIGN 4).
    # No status here: the selectbox matches the browser's choice by its label, and a label that changed
    # with the status would drop the selection (the status is shown beside the form instead).
    return (f"#{row.item_id} {row.school_name or row.school_code} · {row.ticket_no} {mask_name(row['name'])} · "
            f"{row.reason}")


def item_labels(open_items: pd.DataFrame) -> dict[int, str]:
    return {int(r.item_id): item_label(r) for _, r in open_items.iterrows()}


def item_state(open_items: pd.DataFrame, item_id: int | None) -> str:
    """The item's status and current scores, shown beside the (empty) decision form."""
    row = open_items[open_items.item_id == item_id] if len(open_items) else open_items
    if item_id is None or not len(row):
        return ""
    r = row.iloc[0]
    return (f"当前状态：{r.status}；当前成绩：理论 {_score_text(r.theory)} / 实操 {_score_text(r.practical)} / "
            f"总分 {_score_text(r.total)}（{r.verdict}）")


def history_table(batch: str, ticket: str) -> pd.DataFrame:
    h = web.query("review_score_history", batch=batch, ticket=ticket)
    return pd.DataFrame({
        "版本": h.version, "理论": h.theory, "实操": h.practical, "总分": h.total,
        "缺考": h.absent.map({True: "是", False: "否"}), "来源": h.source.map({"import": "成绩导入", "review": "复核更正"}),
        "更正理由": h.reason, "操作人": h.created_by, "时间": h.created_at,
        "当前采用": h.is_latest.map({True: "✔", False: ""}),
    })


def staff_act(batch: str, item_id: int | None, action: str | None, note: str | None, theory=None,
              practical=None) -> tuple[bool, str]:
    """Decide the one item whose form was shown; nothing is written unless the form is complete."""
    user = web.require("admin", "staff")
    if item_id is None:
        return False, "请选择一个复核项"
    if action not in ACTIONS:
        return False, "请选择处理方式"
    if action == "更正" and (theory is None or practical is None):
        return False, "「更正」须填写更正后的理论成绩和实操成绩"
    try:  # an item decided meanwhile by someone else is refused (and audited) by change_status
        version = reviews.change_status(web.con(), user, int(item_id), action, note,
                                        theory=theory if action == "更正" else None,
                                        practical=practical if action == "更正" else None)
    except reviews.ReviewError as exc:
        return False, str(exc)
    if action == "更正":
        return True, f"复核项 #{item_id} 已更正：新增成绩版本 {version}，合格结论已按本批次合格规则重新计算"
    return True, f"复核项 #{item_id} 已标记为「{action}」"


def org_sign(batch: str, school_codes: list[str]) -> tuple[bool, str]:
    user = web.require("admin", "staff")
    if not school_codes:
        return False, "请选择院校"
    done, problems = [], []
    for code in school_codes:
        try:
            reviews.sign_off(web.con(), user, batch, code)
            done.append(code)
        except reviews.ReviewError as exc:
            problems.append(f"{code}：{exc}")
    if problems:
        return False, f"已签发 {len(done)} 所；未签发：" + "；".join(problems)
    return True, f"已代表培训评价组织为 {len(done)} 所院校签发证书"


def downloads(batch: str, table: pd.DataFrame, prefix: str) -> dict:
    """ext -> (build, file name, MIME type) of a queue table (built on click)."""
    return exports.table_files(table, prefix, batch, "复核")


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
    window: reviews.Window
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
        verdict = _verdict(r)
        label = (f"{r['ticket_no']} {r['name']}（{r['level']}，理论 {_score_text(r['theory'])} / "
                 f"实操 {_score_text(r['practical'])}，{verdict}）")
        out[r["ticket_no"]] = Candidate(r["ticket_no"], r["name"], verdict, label, filed.get(r["ticket_no"]))
    return out


def school_view(batch: str) -> SchoolReviews:
    user = web.require("school")
    today = web.today()
    win = _window(batch)
    q = _queue(batch, win, today)
    candidates = _candidates(web.query("review_candidates", batch=batch), q)
    items = pd.DataFrame({
        "复核项": q.item_id, "准考证号": q.ticket_no, "姓名": q["name"], "级别": q.level, "复核原因": q.reason,
        "说明": q.reason_text, "提交时间": q.filed_at, "状态": q.status, "结论说明": q.decision_note,
        "处理时间": q.decided_at, "当前理论": q.theory, "当前实操": q.practical, "当前结果": q.verdict,
    }) if len(q) else pd.DataFrame(columns=["复核项", "准考证号", "姓名", "状态"])
    open_n = int(q.is_open.sum()) if len(q) else 0
    certs = web.query("certificate_status", batch=batch, today=today)
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


def ticket_key(text) -> str:
    """A ticket number as typed, compared as stored: no spaces, full-width digits and letters folded, upper case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or ""))).upper()


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


def school_file(batch: str, rows: Sequence[PendingRow]) -> tuple[bool, str]:
    """File the confirmed rows in one request call: all of them or, on any refusal, none."""
    user = web.require("school")
    if not rows:
        return False, "请先查找考生并加入待提交列表"
    try:
        request_id = reviews.file_request(web.con(), user, batch, [(r.ticket, r.reason, r.text) for r in rows])
    except reviews.ReviewError as exc:
        return False, str(exc)
    return True, f"已提交：{len(rows)} 名考生已列入本校复核申请（申请号 {request_id}），请等待考务人员处理"


def school_sign(batch: str) -> tuple[bool, str]:
    user = web.require("school")
    try:
        reviews.sign_off(web.con(), user, batch)
    except reviews.ReviewError as exc:
        return False, str(exc)
    return True, "本校已签发；双方签发完成后即可生成电子证书"
