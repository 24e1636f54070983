"""The publicity week: score-review requests, their decisions, score corrections and certificate sign-offs.

Rules (中教文〔2023〕1号 四, 成绩公示 / 颁发证书):
- a school files one review request per batch, only inside the batch's publicity window (Asia/Shanghai
  calendar days, inclusive), naming only its own candidates; it may add items to that request while the
  window is open;
- staff move each item 已提交 → 复核中 → 维持 / 更正 / 驳回; the three outcomes are final;
- 更正 never overwrites a score: it adds a score version and recomputes the results of the batch;
- a school's certificates can be issued once the window is over, none of its items is open and both the
  organisation ('org') and the school ('school') have signed off.

The school always comes from the signed-in identity (re-read from the users table), never from a widget.
Every write runs in one db.transaction with an audit row and a data-version bump; a refused action is
audited too (action 'review_refused'), so staff can see late or misdirected requests.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pandas as pd

from examdash.domain import auth, rules
from examdash.domain.calendar import Window
from examdash.store import db, queries

REASONS, OPEN, FINAL, STATUSES = rules.REVIEW_REASONS, rules.REVIEW_OPEN, rules.REVIEW_FINAL, rules.REVIEW_STATUSES
STAFF_ROLES = rules.STAFF_ROLES
MAX_TEXT = 500


class ReviewError(ValueError):
    """A refused review action; the message is for the user, in Chinese."""


@dataclass(frozen=True)
class ItemInput:
    ticket_no: str
    reason_type: str
    reason_text: str | None = None


def window(con, batch: str) -> Window:
    rows = db.rows(con, "select batch_code, batch_name, publicity_start, publicity_end, cert_from from batches "
                      "where batch_code = $b", {"b": batch})
    if not rows:
        raise ReviewError(f"批次 {batch} 不在考试计划中")
    return Window(*rows[0])


def windows(con) -> dict[str, Window]:
    return {r[0]: Window(*r) for r in db.rows(
        con, "select batch_code, batch_name, publicity_start, publicity_end, cert_from from batches")}


def _verified(con, user: auth.User) -> auth.User:
    """The account as stored now; a stale or forged identity is refused."""
    if user is None:
        raise ReviewError("请先登录")
    fresh = auth.reload_user(con, user.username)
    if fresh is None or fresh.role != user.role or fresh.school_code != user.school_code:
        raise ReviewError("账号已停用或权限已变更，请重新登录")
    return fresh


def _refused(con, actor: str, action: str, target: str | None, exc: ReviewError, detail: dict | None = None) -> None:
    db.event(con, actor, "review_refused", target, {"action": action, "reason": str(exc), **(detail or {})})


def _normalise_items(items) -> list[ItemInput]:
    out = []
    for it in items:
        if isinstance(it, ItemInput):
            out.append(it)
        elif isinstance(it, dict):
            out.append(ItemInput(it.get("ticket_no"), it.get("reason_type"), it.get("reason_text")))
        else:
            out.append(ItemInput(*it))
    return out


def check_item(it: ItemInput) -> ItemInput:
    """One item's rules (a ticket, one of the five reasons, a note for 其他, the note's length), normalised;
    the filing form checks its rows with this before asking for confirmation."""
    ticket = re.sub(r"\s+", "", str(it.ticket_no or "")).upper()
    if not ticket:
        raise ReviewError("请选择考生（准考证号不能为空）")
    if it.reason_type not in REASONS:
        raise ReviewError(f"复核原因「{it.reason_type}」无效，应为 {'、'.join(REASONS)} 之一")
    text = (it.reason_text or "").strip() or None
    if it.reason_type == "其他" and not text:
        raise ReviewError(f"准考证号 {ticket}：复核原因为「其他」时须填写说明")
    if text and len(text) > MAX_TEXT:
        raise ReviewError(f"准考证号 {ticket}：说明不能超过 {MAX_TEXT} 字")
    return ItemInput(ticket, it.reason_type, text)


def _window_refusal(win: Window, day: dt.date) -> str | None:
    state = win.state(day)
    if state == "before":
        return (f"成绩公示期 {win.span} 尚未开始（{day:%Y-%m-%d}），"
                f"{win.start:%Y-%m-%d} 起方可提交复核申请")
    if state == "closed":
        return f"已过成绩公示期（{win.span}），{day:%Y-%m-%d} 提交的复核申请为逾期申请，不予受理"
    return None


def _school_tickets(cur, batch: str, tickets: list[str]) -> dict[str, tuple[str, str]]:
    rows = cur.execute(
        "select ticket_no, school_code, status from registrations "
        "where batch_code = $b and list_contains($t, ticket_no)",
        {"b": batch, "t": tickets},
    ).fetchall()
    return {t: (s, st) for t, s, st in rows}


def add_items(cur, *, batch: str, school_code: str, items: list[ItemInput], actor: str, at: dt.datetime,
               source: str, note: str) -> tuple[int, list[int], bool]:
    """Insert the items into the school's request of the batch (created if needed). Caller checked them."""
    existing = cur.execute(
        "select request_id from review_requests where batch_code = $b and school_code = $s",
        {"b": batch, "s": school_code},
    ).fetchall()
    created = not existing
    if created:
        request_id = db.next_id(cur, "review_requests")
        cur.execute(
            "insert into review_requests (request_id, batch_code, school_code, filed_by, filed_at, source) "
            "values ($id, $b, $s, $who, $at, $src)",
            {"id": request_id, "b": batch, "s": school_code, "who": actor, "at": at, "src": source},
        )
    else:
        request_id = int(existing[0][0])
    ids = []
    for it in items:
        item_id = db.next_id(cur, "review_items")
        cur.execute(
            "insert into review_items (item_id, request_id, ticket_no, reason_type, reason_text) "
            "values ($id, $r, $t, $rt, $tx)",
            {"id": item_id, "r": request_id, "t": it.ticket_no, "rt": it.reason_type, "tx": it.reason_text},
        )
        cur.execute(
            "insert into review_item_events values ($i, $at, $who, null, '已提交', $note)",
            {"i": item_id, "at": at, "who": actor, "note": note},
        )
        ids.append(item_id)
    return request_id, ids, created


def _items_already_filed(cur, batch: str, school_code: str) -> dict[str, tuple[int, str]]:
    rows = cur.execute(
        "select i.ticket_no, i.item_id, i.status from review_items i join review_requests r using (request_id) "
        "where r.batch_code = $b and r.school_code = $s",
        {"b": batch, "s": school_code},
    ).fetchall()
    return {t: (i, s) for t, i, s in rows}


def file_request(con, user: auth.User, batch: str, items, *, at: dt.datetime | None = None) -> int:
    """A school leader files (or adds to) the school's review request of the batch. Returns the request id.

    Refused outside the publicity window, for another school's (or an unknown) candidate, for a
    candidate already in the request, or for a reason outside the five allowed. `at` back-dates the
    filing (the demo's history); the window is checked on its date. Pages never pass it.
    """
    actor = getattr(user, "username", None) or "anonymous"
    school = getattr(user, "school_code", None)
    try:
        user = _verified(con, user)
        if user.role != "school" or not user.school_code:
            raise ReviewError("只有学校负责人可以提交成绩复核申请；考务人员请导入平台导出的复核申请")
        school = user.school_code
        win = window(con, batch)
        at = at or db.now(con)
        refusal = _window_refusal(win, at.date())
        if refusal:
            raise ReviewError(refusal)
        checked = [check_item(it) for it in _normalise_items(items)]
        if not checked:
            raise ReviewError("请至少选择一名考生")
        seen = set()
        for it in checked:
            if it.ticket_no in seen:
                raise ReviewError(f"准考证号 {it.ticket_no} 在本次提交中出现了两次")
            seen.add(it.ticket_no)
        with db.transaction(con) as cur:
            owners = _school_tickets(cur, batch, sorted(seen))
            for it in checked:
                owner = owners.get(it.ticket_no)
                # One message for "unknown" and "another school's": a school learns nothing about others.
                if owner is None or owner[0] != school:
                    raise ReviewError(f"准考证号 {it.ticket_no} 不是本校在 {batch} 批次的考生，不能为其申请复核")
                if owner[1] != "正常":
                    raise ReviewError(f"准考证号 {it.ticket_no} 的报名已取消，不能申请复核")
            filed = _items_already_filed(cur, batch, school)
            for it in checked:
                if it.ticket_no in filed:
                    item_id, status = filed[it.ticket_no]
                    raise ReviewError(f"准考证号 {it.ticket_no} 已在本校的复核申请中（复核项 #{item_id}，状态：{status}）")
            request_id, ids, created = add_items(cur, batch=batch, school_code=school, items=checked, actor=actor,
                                                  at=at, source="form", note="学校提交")
            db.audit(cur, actor, "review_file" if created else "review_add_items", f"review_request:{request_id}",
                     {"batch": batch, "school_code": school, "items": ids,
                      "tickets": [it.ticket_no for it in checked], "reasons": [it.reason_type for it in checked]})
            db.bump_version(cur)
        return request_id
    except ReviewError as exc:
        _refused(con, actor, "file", school, exc, {"batch": batch, "school_code": school})
        raise


def _staff_user(con, user: auth.User) -> auth.User:
    user = _verified(con, user)
    if user.role not in STAFF_ROLES:
        raise ReviewError("只有考务人员可以处理复核申请")
    return user


def _score(value, label: str) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, AttributeError):
        raise ReviewError(f"{label}「{value}」不是数字") from None
    if not d.is_finite() or d < 0 or d > 100:
        raise ReviewError(f"{label} {value} 超出 0-100 的范围")
    if d != d.quantize(Decimal("0.1")):
        raise ReviewError(f"{label} {value} 最多保留一位小数")
    return d.quantize(Decimal("0.1"))


def change_status(con, user: auth.User, item_id: int, to_status: str, note: str | None = None, *,
                  theory=None, practical=None, at: dt.datetime | None = None) -> int | None:
    """Move a review item on: 已提交 → 复核中, or to a final outcome 维持 / 更正 / 驳回.

    更正 needs the corrected theory and practical scores; it adds a score version (the old ones stay),
    rebuilds the batch's results and returns the new version number. A final outcome cannot change.
    """
    actor = getattr(user, "username", None) or "anonymous"
    note = (note or "").strip() or None
    try:
        user = _staff_user(con, user)
        if to_status not in ("复核中",) + FINAL:
            raise ReviewError(f"状态「{to_status}」无效，应为 复核中、维持、更正 或 驳回")
        if to_status in FINAL and not note:
            raise ReviewError(f"作出「{to_status}」结论须填写说明（复核依据或理由）")
        if note and len(note) > MAX_TEXT:
            raise ReviewError(f"说明不能超过 {MAX_TEXT} 字")
        new_scores = None
        if to_status == "更正":
            if theory is None or practical is None:
                raise ReviewError("「更正」须填写更正后的理论成绩和实操成绩")
            new_scores = (_score(theory, "理论成绩"), _score(practical, "实操成绩"))
        at = at or db.now(con)
        with db.transaction(con) as cur:
            rows = cur.execute(
                "select i.status, i.ticket_no, i.decided_by, i.decided_at, r.batch_code, r.school_code "
                "from review_items i join review_requests r using (request_id) where i.item_id = $i",
                {"i": int(item_id)},
            ).fetchall()
            if not rows:
                raise ReviewError(f"复核项 #{item_id} 不存在")
            status, ticket, decided_by, decided_at, batch, school = rows[0]
            if status in FINAL:
                when = f"{decided_at:%Y-%m-%d %H:%M}" if decided_at else "此前"
                raise ReviewError(
                    f"复核项 #{item_id}（准考证号 {ticket}）已于 {when} 由 {decided_by or '—'} 作出「{status}」结论；"
                    "维持、更正、驳回均为最终结论，不能再次处理")
            if status == to_status:
                raise ReviewError(f"复核项 #{item_id} 已是「{status}」状态")
            new_version = None
            detail = {"batch": batch, "school_code": school, "ticket_no": ticket, "from": status, "to": to_status,
                      "note": note}
            if new_scores is not None:
                new_version = _correct(cur, batch, ticket, new_scores, note, actor, at, detail)
            if to_status in FINAL:
                cur.execute(
                    "update review_items set status = $s, decided_by = $who, decided_at = $at, decision_note = $n, "
                    "new_version = $v where item_id = $i",
                    {"s": to_status, "who": actor, "at": at, "n": note, "v": new_version, "i": int(item_id)},
                )
            else:
                cur.execute("update review_items set status = $s where item_id = $i", {"s": to_status, "i": int(item_id)})
            cur.execute(
                "insert into review_item_events values ($i, $at, $who, $f, $t, $n)",
                {"i": int(item_id), "at": at, "who": actor, "f": status, "t": to_status, "n": note},
            )
            db.audit(cur, actor, "review_decide" if to_status in FINAL else "review_start", f"review_item:{item_id}", detail)
            db.bump_version(cur)
        return new_version
    except ReviewError as exc:
        _refused(con, actor, "decide", f"review_item:{item_id}", exc, {"to": to_status})
        raise


def start_review(con, user: auth.User, item_id: int, note: str | None = None, *, at: dt.datetime | None = None) -> None:
    change_status(con, user, item_id, "复核中", note, at=at)


def decide(con, user: auth.User, item_id: int, outcome: str, note: str, *, theory=None, practical=None,
           at: dt.datetime | None = None) -> int | None:
    if outcome not in FINAL:
        raise ReviewError(f"结论「{outcome}」无效，应为 维持、更正 或 驳回")
    return change_status(con, user, item_id, outcome, note, theory=theory, practical=practical, at=at)


def _correct(cur, batch: str, ticket: str, scores: tuple[Decimal, Decimal], reason: str, actor: str,
             at: dt.datetime, detail: dict) -> int:
    theory, practical = scores
    latest = cur.execute(
        "select version, id_no, theory, practical, total, absent from score_versions "
        "where batch_code = $b and ticket_no = $t order by version desc limit 1",
        {"b": batch, "t": ticket},
    ).fetchall()
    reg = cur.execute(
        "select id_no from registrations where batch_code = $b and ticket_no = $t", {"b": batch, "t": ticket}
    ).fetchall()
    id_no = (latest[0][1] if latest else None) or (reg[0][0] if reg else None)
    if latest and not latest[0][5] and latest[0][2] == theory and latest[0][3] == practical:
        raise ReviewError(f"更正后的成绩与当前成绩（理论 {theory}，实操 {practical}）相同：成绩不变请选择「维持」")
    version = (int(latest[0][0]) if latest else 0) + 1
    total = rules.weighted_total(theory, practical)
    cur.execute(
        "insert into score_versions (batch_code, ticket_no, version, id_no, theory, practical, total, absent, "
        "supplied_passed, source, reason, created_by, created_at) "
        "values ($b, $t, $v, $id, $th, $pr, $tot, false, null, 'review', $why, $who, $at)",
        {"b": batch, "t": ticket, "v": version, "id": id_no, "th": theory, "pr": practical, "tot": total,
         "why": reason, "who": actor, "at": at},
    )
    detail["old_scores"] = (
        {"version": int(latest[0][0]), "theory": latest[0][2], "practical": latest[0][3], "total": latest[0][4],
         "absent": latest[0][5]} if latest else None)
    detail["new_scores"] = {"version": version, "theory": theory, "practical": practical, "total": total}
    # A candidate wrongly marked absent (缺考误判) who has a corrected score sat the exam: without this
    # the sign-in sheet's 缺考 would keep the verdict at 不合格 whatever the score says.
    att = cur.execute("select status from attendance where batch_code = $b and ticket_no = $t",
                      {"b": batch, "t": ticket}).fetchall()
    if att and att[0][0] == "缺考":
        cur.execute("update attendance set status = '已签到' where batch_code = $b and ticket_no = $t",
                    {"b": batch, "t": ticket})
        detail["attendance"] = {"from": "缺考", "to": "已签到"}
    db.rebuild_results(cur, [batch])
    return version


def sign_off(con, user: auth.User, batch: str, school_code: str | None = None) -> str:
    """Record a certificate sign-off: staff sign for the organisation ('org'), a school leader for their
    own school ('school'). Only after the publicity window and with none of the school's items open."""
    actor = getattr(user, "username", None) or "anonymous"
    target = school_code or getattr(user, "school_code", None)
    try:
        user = _verified(con, user)
        if user.role == "school":
            if school_code not in (None, user.school_code):
                raise ReviewError("学校负责人只能为本校签发")
            party, school_code = "school", user.school_code
        elif user.role in STAFF_ROLES:
            if not school_code:
                raise ReviewError("请选择院校")
            party = "org"
        else:
            raise ReviewError("无权签发证书")
        target = school_code
        win = window(con, batch)
        today = db.today(con)
        if not win.is_over(today):
            raise ReviewError(f"成绩公示期（{win.span}）尚未结束，{win.cert_from:%Y-%m-%d} 起方可签发证书")
        at = db.now(con)
        with db.transaction(con) as cur:
            if not cur.execute("select 1 from registrations where batch_code = $b and school_code = $s and status = '正常' "
                               "limit 1", {"b": batch, "s": school_code}).fetchall():
                raise ReviewError(f"院校 {school_code} 在 {batch} 批次没有考生")
            open_n = cur.execute(
                "select count(*)::bigint from review_items i join review_requests r using (request_id) "
                "where r.batch_code = $b and r.school_code = $s and list_contains($open, i.status)",
                {"b": batch, "s": school_code, "open": list(OPEN)},
            ).fetchall()[0][0]
            if open_n:
                raise ReviewError(f"院校 {school_code} 尚有 {open_n} 项成绩复核未结，结清后方可签发证书")
            done = cur.execute(
                "select signed_by, signed_at from signoffs where batch_code = $b and school_code = $s and party = $p",
                {"b": batch, "s": school_code, "p": party},
            ).fetchall()
            who = "培训评价组织" if party == "org" else "学校"
            if done:
                raise ReviewError(f"{who}已于 {done[0][1]:%Y-%m-%d %H:%M} 由 {done[0][0]} 签发，无需重复签发")
            cur.execute("insert into signoffs values ($b, $s, $p, $who, $at)",
                        {"b": batch, "s": school_code, "p": party, "who": actor, "at": at})
            db.audit(cur, actor, "signoff", f"{batch}:{school_code}", {"batch": batch, "school_code": school_code,
                                                                       "party": party})
            db.bump_version(cur)
        return party
    except ReviewError as exc:
        _refused(con, actor, "signoff", target, exc, {"batch": batch, "school_code": target})
        raise


def certificate_status(con, batch: str, today: dt.date | None = None,
                       scope: queries.Scope = queries.FULL_SCOPE) -> pd.DataFrame:
    return queries.run(con, "certificate_status", {"batch": batch, "today": today or db.today(con)}, scope)


def queue_ages(queue: pd.DataFrame, win: Window, today: dt.date) -> pd.DataFrame:
    """Add age in days (open items: until today; decided: until the decision) and the two countdowns."""
    out = queue.copy()
    filed = pd.to_datetime(out["filed_at"]).dt.normalize()
    until = pd.to_datetime(out["decided_at"]).dt.normalize().where(~out["is_open"].astype(bool), pd.Timestamp(today))
    out["age_days"] = (until - filed).dt.days.astype("Int64")
    out["days_left"] = win.days_left(today)
    out["days_to_cert"] = win.days_to_cert(today)
    return out


