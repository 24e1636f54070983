"""Candidates look up their own result (考生或考点查询成绩, the notice's publicity week), without an account.

Rules:
- a candidate types the 准考证号 and the full 身份证号 (18 characters; a lower-case x and spaces are
  accepted): a masked list shows the first 6 and last 4 ID characters, so only the whole number proves
  the candidate knows it. A batch answers from the first day of its publicity window;
- a wrong ticket, a wrong ID number, a batch whose window has not begun and a malformed entry all get the
  same answer (NOT_FOUND), so nobody learns which tickets exist;
- the answer comes from an index of the published results held by each process and built once per data
  version and day (Index: one query, no lake read per visitor); a correction that lands is a new data
  version, so the next lookup answers from a new index;
- failed lookups are throttled per client (CLIENT_MAX in WINDOW, then locked for LOCK) and under a global
  ceiling: while more than GLOBAL_MAX lookups failed in the window over all clients (many addresses
  guessing), every client that has failed is held to TIGHT_MAX. Nothing is ever locked per ticket: an
  attacker's wrong tries cannot keep the owner's correct details out. A client whose address is unknown
  ('local': maybe everyone behind an untrusted proxy) is never locked as one;
- every lookup is a request event (candidate_lookup, in the application database: no lake snapshot) with
  the client, the ticket typed when it has a ticket's shape, whether it was found, and a keyed hash of the
  ID number (HMAC-SHA256 with the store's random key), never the number; the name shown is masked (张*).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import hmac
import re
import threading
import types
from dataclasses import dataclass

import pandas as pd

from examdash.domain import auth
from examdash.domain.ids import fold_typed, id_valid, mask_name
from examdash.domain.rules import REVIEW_OPEN
from examdash.store import appdb, db, queries

CLIENT_MAX = 10  # failed lookups per client in WINDOW
GLOBAL_MAX = 300  # failed lookups of all clients in WINDOW past which failing clients are held to TIGHT_MAX
TIGHT_MAX = 2
WINDOW = dt.timedelta(minutes=15)
LOCK = dt.timedelta(minutes=15)
NOT_FOUND = ("未查到成绩：请核对准考证号和 18 位身份证号。成绩自该批次成绩公示期第一天起可查；"
             "仍查不到的，请联系报名院校。")
TICKET = re.compile(r"[0-9A-Za-z-]{4,32}")
ID_SHAPE = re.compile(r"[0-9]{15}|[0-9]{17}[0-9X]")  # an ID number (18, or the old 15 digits), never a ticket
KEY_NAME = "lookup_key"
ANSWERING_ROLE = "考生查询"


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
    review: str  # the outcome in words: 无 / 复核中 / 维持原成绩 / 成绩已更正 / 申请被驳回
    review_note: str | None  # the staff's note on the decision
    review_date: dt.date | None
    before: tuple[float | None, float | None, float | None] | None  # the scores a correction replaced
    certificate: str
    publicity_start: dt.date
    publicity_end: dt.date

    @property
    def publicity(self) -> str:
        return f"{self.publicity_start:%Y-%m-%d} 至 {self.publicity_end:%Y-%m-%d}"


def shaped_ticket(ticket: str) -> bool:
    """Whether a typed value has a ticket's shape (and not an ID number's): only then is it kept in a log."""
    return bool(TICKET.fullmatch(ticket)) and not ID_SHAPE.fullmatch(ticket)


def normalise(ticket, id_number) -> tuple[str, str]:
    """The ticket and ID number as stored: full width folded, spaces dropped, upper case."""
    return fold_typed(ticket), fold_typed(id_number)


def _flag(v) -> bool | None:
    return None if v is None or pd.isna(v) else bool(v)


def _number(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _verdict(row) -> str:
    if row.attendance_status in ("缺考", "违纪"):
        return row.attendance_status
    passed = _flag(row.passed)
    if passed is None:
        return "成绩未出"
    if not passed and _flag(row.sat) is False:
        return "缺考"  # the score sheet says 缺考 and there is no sign-in row
    return "合格" if passed else "不合格"


def _review(status) -> str:
    if not isinstance(status, str):
        return "无"
    if status in REVIEW_OPEN:
        return f"复核中（{status}）"
    return {"维持": "维持原成绩", "更正": "成绩已更正", "驳回": "申请被驳回"}.get(status, status)


def _certificate(row, schools: dict) -> str:
    passed = _flag(row.passed)
    if passed is not True:
        return "未合格，无证书" if passed is False else "成绩未出，暂无证书"
    found = schools.get((row.batch_code, row.school_code))
    if found is None:
        return "—"
    can_issue, text = found
    return "可颁发：电子版证书已可生成" if can_issue else f"合格，{text}"


def _date(v) -> dt.date | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


class Index:
    """The published results of one data version and day, sorted by ticket for a binary search. Rows stay
    as the query gave them (one array per column) and become a Found only when a visitor's details match
    (a DataFrame row took a tenth of a lookup's time)."""

    def __init__(self, version: int, day: dt.date, rows: pd.DataFrame, schools: dict,
                 windows: list[tuple[str, dt.date, dt.date]] = ()):
        self.version, self.day = version, day
        self._tickets = rows["ticket_no"].tolist()
        self._ids = [str(i) for i in rows["id_no"]]
        self._columns = {c: rows[c].to_numpy(dtype=object) for c in rows.columns}
        self._schools = schools  # (batch, school) -> (can issue, status text)
        self.windows = list(windows)  # (batch name, first, last day) of every batch's publicity, latest first

    def __len__(self) -> int:
        return len(self._tickets)

    def find(self, ticket: str, id_number: str) -> list[Found]:
        """Every result under the ticket whose ID number is the one typed (compared in constant time)."""
        i = bisect.bisect_left(self._tickets, ticket)
        out = []
        while i < len(self._tickets) and self._tickets[i] == ticket:
            if hmac.compare_digest(self._ids[i].encode(), id_number.encode()):
                out.append(self._found(types.SimpleNamespace(**{c: a[i] for c, a in self._columns.items()})))
            i += 1
        return out

    def _found(self, r) -> Found:
        corrected = isinstance(r.review_status, str) and r.review_status == "更正" and not pd.isna(r.before_total)
        return Found(
            r.batch_name, r.ticket_no, mask_name(r.name), r.level, _number(r.theory), _number(r.practical),
            _number(r.total), _verdict(r), _review(r.review_status),
            r.review_note if isinstance(r.review_note, str) and r.review_note.strip() else None,
            _date(r.review_decided_at),
            (_number(r.before_theory), _number(r.before_practical), _number(r.before_total)) if corrected else None,
            _certificate(r, self._schools), _date(r.publicity_start), _date(r.publicity_end))


def build_index(con, version: int, day: dt.date) -> Index:
    """One read of the published results (on this process's mirror of `version`, sorted by ticket in the
    query), one per open batch of the schools' certificate status, and the batches' dates."""
    found = queries.run(con, "lookup_index", {"today": day}, queries.FULL_SCOPE, version)
    schools = {}
    for batch in sorted(set(found.batch_code)):
        status = queries.run(con, "certificate_status", {"batch": batch, "today": day}, queries.FULL_SCOPE, version)
        schools.update({(batch, s.school_code): (bool(s.can_issue), s.status_text) for s in status.itertuples()})
    batches = queries.run(con, "batches", None, queries.FULL_SCOPE, version)
    windows = [(r.batch_name, _date(r.publicity_start), _date(r.publicity_end)) for r in batches.itertuples()]
    return Index(version, day, found, schools, windows)


_INDEXES: dict[str, Index] = {}  # store -> the newest index built
_BUILD = threading.Lock()


def index(con, state: db.LakeState) -> Index:
    """The index of the lake's current data version and day, built once per process (one build at a
    time: visitors arriving while it is built wait for it, then share it)."""
    key = db.store_of(con).catalog
    day = state.today()
    hit = _INDEXES.get(key)
    if hit is not None and hit.version == state.data_version and hit.day == day:
        return hit
    with _BUILD:
        hit = _INDEXES.get(key)
        if hit is None or hit.version != state.data_version or hit.day != day:
            hit = _INDEXES[key] = build_index(con, state.data_version, day)
    return hit


def ready(con) -> bool:
    """Whether a lookup can be answered without reading the lake (its state is kept and the index of that
    data version and day is built): such a lookup costs about a millisecond."""
    state = db.lake_state_kept(con)
    if state is None:
        return False
    hit = _INDEXES.get(db.store_of(con).catalog)
    return hit is not None and hit.version == state.data_version and hit.day == state.today()


def _hash(key: bytes, kind: str, text: str) -> str:
    return hmac.new(key, f"{kind}:{text}".encode(), hashlib.sha256).hexdigest()[:32]


def _row(run, kind: str, key: str) -> tuple[int, dt.datetime, dt.datetime | None] | None:
    found = run("select failures, first_at, locked_until from throttle where kind = :k and key = :v",
                {"k": kind, "v": key})
    return (int(found[0][0]), appdb.parse(found[0][1]), appdb.parse(found[0][2])) if found else None


def _live(row, now: dt.datetime) -> int:
    """Failures of a throttle row still inside its window (0 once the window or a served lock is over)."""
    if row is None or now - row[1] >= WINDOW or (row[2] is not None and row[2] <= now):
        return 0
    return row[0]


def _refusal(client_row, global_row, now: dt.datetime) -> dt.datetime | None:
    """Until when the client is refused, or None."""
    if client_row is None:
        return None
    if client_row[2] is not None and client_row[2] > now:
        return client_row[2]
    if _live(global_row, now) >= GLOBAL_MAX and _live(client_row, now) >= TIGHT_MAX:
        return client_row[1] + WINDOW  # held until its own failures leave the window
    return None


def find(con, ticket, id_number, client: str | None) -> list[Found]:
    """The candidate's results (one per level they sat under that ticket), or [] for NOT_FOUND.
    Raises LookupRefused while the client is refused."""
    ticket, id_number = normalise(ticket, id_number)
    client = auth.client_key(client)
    state = db.lake_state(con)
    now, app = state.now(), db.app(con)
    key = app.secret(KEY_NAME)
    shaped = shaped_ticket(ticket)
    well_formed = shaped and id_valid(id_number)
    found = index(con, state).find(ticket, id_number) if well_formed else []
    detail = {"client": client, "id": _hash(key, "id", f"{ticket}:{id_number}") if well_formed else None,
              "found": bool(found)}
    target = ticket if shaped else "（格式不符）"  # what was typed is kept only when it has a ticket's shape
    with app.transaction() as run:
        client_row = _row(run, "lookup_client", client) if client != auth.LOCAL else None
        global_row = _row(run, "lookup_global", "all")
        until = _refusal(client_row, global_row, now)
        if until is not None:
            app.record(now, ANSWERING_ROLE, "candidate_lookup_refused", target, {**detail, "found": None}, run=run)
        else:
            if not found:
                if client != auth.LOCAL:
                    app.bump("lookup_client", client, now, WINDOW, CLIENT_MAX, LOCK, run=run)
                app.bump("lookup_global", "all", now, WINDOW, None, LOCK, run=run)
            app.record(now, ANSWERING_ROLE, "candidate_lookup", target, detail, run=run)
    if until is not None:
        minutes = max(1, int((until - now).total_seconds() // 60) + 1)
        raise LookupRefused(f"查询失败次数过多，请 {minutes} 分钟后再试。")
    return found
