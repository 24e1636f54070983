"""Paper certificates: how many a school asks for in a batch (纸质版证书根据院校需求发放).

Rules (the notice, 颁发证书): electronic certificates are made after the publicity window once the
organisation and the school have both signed off; paper ones are sent as each school asks. So:
- only a school leader records the request, for their own school (the school comes from the stored
  account, never from a widget), from the day after the batch's publicity window;
- the number is a whole number from 0 to the school's candidates who passed that batch;
- every request is kept (the latest counts) and audited; a refused request is audited too.
"""

from __future__ import annotations

from examdash.domain import auth
from examdash.store import db

MAX_NOTE = 200


class CertificateError(ValueError):
    """A refused request; the message is for the user, in Chinese."""


def _refuse(con, actor: str, target: str | None, exc: CertificateError, detail: dict) -> None:
    db.event(con, actor, "paper_certificates_refused", target, {"reason": str(exc), **detail})


def request_paper(con, user: auth.User, batch: str, copies, note: str | None = None) -> int:
    """Record how many paper certificates the user's school wants for `batch`; returns the request id."""
    actor = getattr(user, "username", None) or "anonymous"
    target = f"{batch}:{getattr(user, 'school_code', None)}"
    detail = {"batch": batch, "copies": copies}
    try:
        fresh = auth.reload_user(con, actor) if user is not None else None
        if fresh is None or fresh.role != user.role or fresh.school_code != user.school_code:
            raise CertificateError("账号已停用或权限已变更，请重新登录")
        if fresh.role != "school" or not fresh.school_code:
            raise CertificateError("纸质证书数量由学校负责人为本校登记")
        if isinstance(copies, bool) or not isinstance(copies, int) and not (isinstance(copies, float) and copies.is_integer()):
            raise CertificateError(f"纸质证书数量须为整数，实际为 {copies!r}")
        copies = int(copies)
        note = (note or "").strip() or None
        if note and len(note) > MAX_NOTE:
            raise CertificateError(f"备注最多 {MAX_NOTE} 字")
        school = fresh.school_code
        found = db.rows(con, "select publicity_end, cert_from from batches where batch_code = $b", {"b": batch})
        if not found:
            raise CertificateError(f"批次 {batch} 不在考试计划中")
        publicity_end, cert_from = found[0]
        if db.today(con) <= publicity_end:
            raise CertificateError(f"成绩公示期 {publicity_end:%Y-%m-%d} 结束后（{cert_from:%Y-%m-%d} 起）方可登记纸质证书数量")
        with db.transaction(con) as cur:
            passed = cur.execute("select count_if(passed is true)::bigint, count(*)::bigint from results "
                                 "where batch_code = $b and school_code = $s", {"b": batch, "s": school}).fetchall()[0]
            if not passed[1]:
                raise CertificateError(f"本校在 {batch} 批次没有考生")
            if not 0 <= copies <= passed[0]:
                raise CertificateError(f"纸质证书数量须在 0 到本校该批次合格人数 {passed[0]:,} 之间，实际为 {copies:,}")
            request_id = db.next_id(cur, "paper_certificate_requests")
            cur.execute("insert into paper_certificate_requests values ($id, $b, $s, $n, $note, $by, $at)",
                        {"id": request_id, "b": batch, "s": school, "n": copies, "note": note, "by": actor,
                         "at": db.now(con)})
            db.audit(cur, actor, "paper_certificates", f"{batch}:{school}",
                     {"batch": batch, "school_code": school, "copies": copies, "passed": passed[0], "note": note})
            db.bump_version(cur)
        return request_id
    except CertificateError as exc:
        _refuse(con, actor, target, exc, detail)
        raise
