"""Candidates look up their own result (考生或考点查询成绩, the notice's publicity week), without an account.

Rules:
- a candidate types the 准考证号 and the last 6 characters of the ID number; a batch answers from the
  first day of its publicity window;
- a wrong ticket, a wrong ID, a batch whose window has not begun and a malformed entry all get the same
  answer (NOT_FOUND), so nobody learns which tickets exist;
- failed lookups are throttled per client (CLIENT_MAX in WINDOW, then locked for LOCK) and per ticket
  typed, whatever the client (TICKET_MAX), so the 10^6 ID endings of a known ticket cannot be tried;
  a client whose address is unknown ('local': maybe everyone behind an untrusted proxy) is never locked
  as one, the per-ticket limit still holds;
- every lookup is audited (action candidate_lookup) with the client, the ticket typed and whether it
  was found; the ID characters are kept only as a keyed hash (HMAC-SHA256 with a random key of the store),
  never in the clear; the name shown is masked (张*).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import pandas as pd

from examdash.domain import auth
from examdash.domain.ids import fold_typed, mask_name
from examdash.store import db, queries

CLIENT_MAX = 10  # failed lookups per client in WINDOW
TICKET_MAX = 5  # failed lookups per ticket typed in WINDOW, from any client
WINDOW = dt.timedelta(minutes=15)
LOCK = dt.timedelta(minutes=15)
NOT_FOUND = ("未查到成绩：请核对准考证号和身份证号后 6 位。成绩自该批次成绩公示期第一天起可查；"
             "仍查不到的，请联系报名院校。")
TICKET = re.compile(r"[0-9A-Za-z-]{4,32}")
ID_TAIL = re.compile(r"[0-9]{5}[0-9X]")
KEY_META = "lookup_key"


class LookupRefused(ValueError):
    """Too many failed lookups: the message says when to try again."""


@dataclass(frozen=True)
class Found:
    batch_name: str
    ticket_no: str
    name: str  # masked
    level: str
    theory: float | None
    practical: float | None
    total: float | None
    verdict: str
    review: str
    certificate: str
    publicity: str


def _key(con) -> bytes:
    """The store's random key for the hashes in the throttle and the audit log (made on first use)."""
    found = db.get_meta(con, KEY_META)
    if found:
        return bytes.fromhex(found)
    with db.transaction(con) as cur:
        again = cur.execute("select value from meta where key = $k", {"k": KEY_META}).fetchall()
        if again:
            return bytes.fromhex(again[0][0])
        made = secrets.token_hex(32)
        db.set_meta(cur, KEY_META, made)
    return bytes.fromhex(made)


def _hash(key: bytes, kind: str, text: str) -> str:
    return hmac.new(key, f"{kind}:{text}".encode(), hashlib.sha256).hexdigest()[:32]


def _locked(cur, kind: str, key: str, now: dt.datetime) -> dt.datetime | None:
    row = cur.execute("select locked_until from lookup_throttle where kind = $k and key = $v",
                      {"k": kind, "v": key}).fetchall()
    return row[0][0] if row and row[0][0] is not None and row[0][0] > now else None


def _fail(cur, kind: str, key: str, limit: int, now: dt.datetime) -> None:
    row = cur.execute("select failures, first_failure_at from lookup_throttle where kind = $k and key = $v",
                      {"k": kind, "v": key}).fetchall()
    failures, first = (row[0] if row and now - row[0][1] < WINDOW else (0, now))
    failures += 1
    cur.execute("delete from lookup_throttle where kind = $k and key = $v", {"k": kind, "v": key})
    cur.execute("insert into lookup_throttle values ($k, $v, $f, $first, $lock)",
                {"k": kind, "v": key, "f": failures, "first": first, "lock": now + LOCK if failures >= limit else None})


def _flag(v) -> bool | None:
    return None if v is None or pd.isna(v) else bool(v)


def _certificate(con, row, today: dt.date) -> str:
    passed = _flag(row.passed)
    if passed is not True:
        return "未合格，无证书" if passed is False else "成绩未出，暂无证书"
    status = queries.run(con, "certificate_status", {"batch": row.batch_code, "today": today},
                         queries.Scope("school", row.school_code))
    if status.empty:
        return "—"
    s = status.iloc[0]
    return "可颁发：电子版证书已可生成" if bool(s.can_issue) else f"合格，{s.status_text}"


def _verdict(row) -> str:
    if row.attendance_status in ("缺考", "违纪"):
        return row.attendance_status
    passed = _flag(row.passed)
    if passed is None:
        return "成绩未出"
    if not passed and _flag(row.sat) is False:
        return "缺考"  # the score sheet says 缺考 and there is no sign-in row
    return "合格" if passed else "不合格"


def _number(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def find(con, ticket, id_tail, client: str | None) -> list[Found]:
    """The candidate's results (one per level they sat under that ticket), or [] for NOT_FOUND.
    Raises LookupRefused while the client or the ticket is locked."""
    ticket, id_tail = fold_typed(ticket), fold_typed(id_tail)
    client = auth.client_key(client)
    key = _key(con)
    ticket_key, tail_hash = _hash(key, "ticket", ticket), _hash(key, "id_tail", f"{ticket}:{id_tail}")
    now, today = db.now(con), db.today(con)
    well_formed = bool(TICKET.fullmatch(ticket) and ID_TAIL.fullmatch(id_tail))
    rows = queries.run(con, "candidate_lookup", {"ticket": ticket, "id_tail": id_tail, "today": today}) \
        if well_formed else pd.DataFrame()
    found = [] if rows.empty else [
        Found(r.batch_name, r.ticket_no, mask_name(r["name"]), r.level, _number(r.theory), _number(r.practical),
              _number(r.total), _verdict(r), r.review_status if isinstance(r.review_status, str) else "无",
              _certificate(con, r, today), f"{pd.Timestamp(r.publicity_start):%Y-%m-%d} 至 {pd.Timestamp(r.publicity_end):%Y-%m-%d}")
        for _, r in rows.iterrows()]
    with db.transaction(con) as cur:
        locks = [t for t in (_locked(cur, "client", client, now) if client != auth.LOCAL else None,
                             _locked(cur, "ticket", ticket_key, now)) if t is not None]
        detail = {"client": client, "id_tail": tail_hash, "found": bool(found)}
        if locks:
            db.audit(cur, "考生查询", "candidate_lookup_refused", ticket[:32], {**detail, "found": None})
            until = max(locks)
        else:
            if not found:
                if client != auth.LOCAL:
                    _fail(cur, "client", client, CLIENT_MAX, now)
                _fail(cur, "ticket", ticket_key, TICKET_MAX, now)
            db.audit(cur, "考生查询", "candidate_lookup", ticket[:32], detail)
            until = None
    if until is not None:
        minutes = max(1, int((until - now).total_seconds() // 60) + 1)
        raise LookupRefused(f"查询失败次数过多，请 {minutes} 分钟后再试。")
    return found
