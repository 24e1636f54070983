"""复核 (staff): the publicity week's review queue, decisions, score versions and certificate sign-offs;
and what 成绩复核申请 (school_reviews) shares with it: verdicts and the queue with its ages.

Actions call examdash.domain.reviews with the signed-in identity and return (ok, message) for the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from examdash.domain import reviews
from examdash.domain.calendar import Window
from examdash.domain.ids import mask_name
from examdash.views import exports
from examdash.views.common import Run, window

ACTIONS = {"复核中": "开始复核（复核中）", "维持": "维持（成绩不变）", "更正": "更正（录入新成绩）", "驳回": "驳回（不予复核）"}


def verdict(row) -> str:
    if row.get("attendance_status") == "缺考":
        return "缺考"
    if pd.isna(row.get("passed")):
        return "—"
    return "合格" if row["passed"] else "不合格"


def score_text(v) -> str:
    return "—" if v is None or pd.isna(v) else f"{float(v):g}"


def queue(run: Run, batch: str, win: Window, today: dt.date) -> pd.DataFrame:
    """The batch's review items (the school's only, with a school's runner), their ages and verdicts."""
    q = run("review_queue", batch=batch)
    q = reviews.queue_ages(q, win, today) if len(q) else q.assign(age_days=pd.Series(dtype="Int64"))
    q["verdict"] = [verdict(r) for r in q.to_dict("records")]
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
    window: Window
    today: dt.date
    window_text: str
    metrics: list[tuple[str, str, str]]
    open_items: pd.DataFrame
    open_table: pd.DataFrame
    closed_table: pd.DataFrame
    by_school: pd.DataFrame
    tickets: list[str]
    events_table: pd.DataFrame
    certificates_table: pd.DataFrame
    signable: dict[str, str]  # school_code -> label, schools the organisation can sign for now


def build(run: Run, batch: str, today: dt.date) -> StaffReviews:
    win = window(run, batch)
    q = queue(run, batch, win, today)
    open_q = q[q.is_open.astype(bool)] if len(q) else q
    closed_q = q[~q.is_open.astype(bool)] if len(q) else q
    counts = q.status.value_counts() if len(q) else pd.Series(dtype="int64")
    n = lambda s: int(counts.get(s, 0))  # noqa: E731
    certs = run("certificate_status", batch=batch, today=today)
    ready = int(certs.can_issue.sum()) if len(certs) else 0
    oldest = int(open_q.age_days.max()) if len(open_q) else 0
    metrics = [
        ("待处理复核项", f"{len(open_q):,}", f"已提交 {n('已提交')}，复核中 {n('复核中')}；最久已等待 {oldest} 天"),
        ("已结论", f"{len(closed_q):,}", f"维持 {n('维持')}，更正 {n('更正')}，驳回 {n('驳回')}"),
        ("提出申请的院校", f"{q.school_code.nunique() if len(q) else 0:,}", "每校每批次一份申请，可列多名考生"),
        ("公示期剩余", win.remaining(today), f"成绩公示期 {win.span}（含首尾两天）"),
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
    events = run("review_events", batch=batch).drop(columns="event_no")
    events_table = events.rename(columns={
        "event_at": "时间", "actor": "操作人", "request_id": "申请号", "item_id": "复核项", "school_code": "院校代码",
        "ticket_no": "准考证号", "from_status": "原状态", "to_status": "新状态", "note": "说明"})
    signable = {}
    if win.is_over(today) and len(certs):
        ok = certs[(certs.open_items == 0) & certs.org_signed_at.isna()]
        signable = dict(zip(ok.school_code, ok.school_code + " " + ok.school_name.fillna("")))
    return StaffReviews(
        window=win, today=today, window_text=win.line(today), metrics=metrics, open_items=open_q,
        open_table=_open_table(open_q), closed_table=_closed_table(closed_q), by_school=by_school,
        tickets=sorted(q.ticket_no.unique().tolist()) if len(q) else [], events_table=events_table,
        certificates_table=_certificates_table(certs), signable=signable,
    )


def item_label(row) -> str:
    # Staff identify candidates by ticket; names stay masked outside the candidate's own school (docs/ARCHITECTURE.md, privacy rules).
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
    return (f"当前状态：{r.status}；当前成绩：理论 {score_text(r.theory)} / 实操 {score_text(r.practical)} / "
            f"总分 {score_text(r.total)}（{r.verdict}）")


def history_table(run: Run, batch: str, ticket: str) -> pd.DataFrame:
    h = run("review_score_history", batch=batch, ticket=ticket)
    return pd.DataFrame({
        "版本": h.version, "理论": h.theory, "实操": h.practical, "总分": h.total,
        "缺考": h.absent.map({True: "是", False: "否"}), "来源": h.source.map({"import": "成绩导入", "review": "复核更正"}),
        "更正理由": h.reason, "操作人": h.created_by, "时间": h.created_at,
        "当前采用": h.is_latest.map({True: "✔", False: ""}),
    })


def act(con, user, item_id: int | None, action: str | None, note: str | None, theory=None,
        practical=None) -> tuple[bool, str]:
    """Decide the one item whose form was shown; nothing is written unless the form is complete."""
    if item_id is None:
        return False, "请选择一个复核项"
    if action not in ACTIONS:
        return False, "请选择处理方式"
    if action == "更正" and (theory is None or practical is None):
        return False, "「更正」须填写更正后的理论成绩和实操成绩"
    try:  # an item decided meanwhile by someone else is refused (and audited) by change_status
        version = reviews.change_status(con, user, int(item_id), action, note,
                                        theory=theory if action == "更正" else None,
                                        practical=practical if action == "更正" else None)
    except reviews.ReviewError as exc:
        return False, str(exc)
    if action == "更正":
        return True, f"复核项 #{item_id} 已更正：新增成绩版本 {version}，合格结论已按本批次合格规则重新计算"
    return True, f"复核项 #{item_id} 已标记为「{action}」"


def org_sign(con, user, batch: str, school_codes: list[str]) -> tuple[bool, str]:
    if not school_codes:
        return False, "请选择院校"
    done, problems = [], []
    for code in school_codes:
        try:
            reviews.sign_off(con, user, batch, code)
            done.append(code)
        except reviews.ReviewError as exc:
            problems.append(f"{code}：{exc}")
    if problems:
        return False, f"已签发 {len(done)} 所；未签发：" + "；".join(problems)
    return True, f"已代表培训评价组织为 {len(done)} 所院校签发证书"


def downloads(batch: str, table: pd.DataFrame, prefix: str) -> dict:
    """ext -> (build, file name, MIME type) of a queue table (built on click)."""
    return exports.table_files(table, prefix, batch, "复核")


def refusals_table(run: Run, batch: str) -> pd.DataFrame:
    """Refused review actions of the batch, newest first. Refusals are request events (the application
    database, no data version bump), so the page reads them live, outside the cached view model."""
    refusals = run("review_refusals", batch=batch).drop(columns="event_no").rename(columns={
        "event_at": "时间", "actor": "操作人", "action": "操作", "school_code": "院校代码", "target": "对象",
        "reason": "拒绝原因"})
    refusals["操作"] = refusals["操作"].map({"file": "提交复核申请", "decide": "复核处理", "signoff": "证书签发"}).fillna(
        refusals["操作"])
    return refusals
