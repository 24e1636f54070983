"""Room arrangement (编排考场) of a batch at an exam site, and the seat of every candidate.

Rules (the notice: 考务及技术人员培训、编排考场; 考试计划: 中级 08:30–11:30, 初级 14:00–16:30):
- the two levels sit at different times on the exam day, so each level uses the site's seats on its own;
- the site's seats (机位数) are split into rooms of `room_seats` seats (the last room takes the rest);
  candidates are seated in ticket order, room 01 seat 01 first;
- more candidates of a level than seats: the rest go to a second sitting (and a third …) in the same rooms,
  flagged, since the notice has one national time per level;
- candidates without a 准考证号 cannot be seated and are listed apart;
- staff, or the site's own 考点 account, propose, move a candidate (swapping with the seat's holder) and
  lock; a locked arrangement changes only after staff unlock it. Every change is one transaction, audited.
"""

from __future__ import annotations

import pandas as pd

from examdash.domain import auth, lookup, rules
from examdash.store import db

DEFAULT_ROOM_SEATS = 30
MAX_ROOM_SEATS = 200
DRAFT, LOCKED = "草案", "已锁定"


class RoomError(ValueError):
    """A refused arrangement change; the message is for the user, in Chinese."""


def room_sizes(seats: int, room_seats: int) -> list[int]:
    """The seats of each room: full rooms of room_seats, the last one the rest."""
    full, rest = divmod(seats, room_seats)
    return [room_seats] * full + ([rest] if rest else [])


def propose(candidates: pd.DataFrame, seats: int, room_seats: int) -> pd.DataFrame:
    """(level, sitting, room, seat, ticket_no) for candidates (level, ticket_no) in seats of rooms."""
    if seats <= 0:
        raise RoomError("考点机位数为 0，无法编排考场；请先在考点名单中填写机位数")
    if not 1 <= room_seats <= MAX_ROOM_SEATS:
        raise RoomError(f"每考场机位数须在 1 到 {MAX_ROOM_SEATS} 之间")
    places = [(f"{r:02d}", f"{s:02d}") for r, size in enumerate(room_sizes(seats, room_seats), start=1)
              for s in range(1, size + 1)]
    rows = []
    for level in rules.LEVELS:
        tickets = sorted(candidates.ticket_no[candidates.level == level])
        for i, ticket in enumerate(tickets):
            room, seat = places[i % len(places)]
            rows.append((level, i // len(places) + 1, room, seat, ticket))
    return pd.DataFrame(rows, columns=["level", "sitting", "room", "seat", "ticket_no"])


def _authorised(con, user, site: str, *, unlock: bool = False) -> auth.User:
    fresh = auth.reload_user(con, user.username) if user is not None else None
    if fresh is None or fresh.role != user.role or fresh.site_code != user.site_code or fresh.school_code != user.school_code:
        raise RoomError("账号已停用或权限已变更，请重新登录")
    if fresh.role in rules.STAFF_ROLES:
        return fresh
    if unlock:
        raise RoomError("已锁定的考场编排只能由考务人员解锁")
    if fresh.role == "site" and fresh.site_code == site:
        return fresh
    raise RoomError("只能编排本考点的考场")


def _plan(cur, batch: str, site: str):
    found = cur.execute("select room_seats, status from room_plans where batch_code = $b and site_code = $s",
                        {"b": batch, "s": site}).fetchall()
    return found[0] if found else None


def _refuse(con, actor: str, action: str, batch: str, site: str, exc: RoomError) -> None:
    db.event(con, actor, "rooms_refused", f"{batch}:{site}", {"action": action, "reason": str(exc)})


def arrange(con, user, batch: str, site: str, room_seats: int = DEFAULT_ROOM_SEATS) -> dict:
    """Propose (or propose again) the site's arrangement from its registrations and seats; refused once
    locked. Returns what was arranged: seated, unseated (no ticket), sittings per level, over capacity."""
    actor = getattr(user, "username", "anonymous")
    try:
        _authorised(con, user, site)
        if isinstance(room_seats, bool) or not isinstance(room_seats, int):
            raise RoomError("每考场机位数须为整数")
        with db.transaction(con) as cur:
            plan = _plan(cur, batch, site)
            if plan and plan[1] == LOCKED:
                raise RoomError("考场编排已锁定，需考务人员解锁后才能重新编排")
            found = cur.execute("select seats from sites where site_code = $s", {"s": site}).fetchall()
            if not found:
                raise RoomError(f"考点 {site} 不存在")
            regs = cur.execute("select level, ticket_no from registrations where batch_code = $b and site_code = $s "
                               "and status = '正常'", {"b": batch, "s": site}).df()
            if regs.empty:
                raise RoomError(f"考点 {site} 在 {batch} 批次没有报名")
            seated = regs[regs.ticket_no.notna() & (regs.ticket_no != "")]
            layout = propose(seated, int(found[0][0] or 0), room_seats)
            cur.execute("delete from room_seats where batch_code = $b and site_code = $s", {"b": batch, "s": site})
            db.register(cur, "_room_layout", layout.assign(batch_code=batch, site_code=site))
            try:
                cur.execute("insert into room_seats by name select * from _room_layout")
            finally:
                cur.unregister("_room_layout")
            cur.execute("delete from room_plans where batch_code = $b and site_code = $s", {"b": batch, "s": site})
            cur.execute("insert into room_plans values ($b, $s, $n, $st, $u, $t, null, null)",
                        {"b": batch, "s": site, "n": room_seats, "st": DRAFT, "u": actor, "t": db.now(con)})
            summary = {"seated": len(layout), "unseated": int(len(regs) - len(seated)), "room_seats": room_seats,
                       "sittings": {lv: int(layout.sitting[layout.level == lv].max() or 0)
                                    for lv in rules.LEVELS if (layout.level == lv).any()}}
            db.audit(cur, actor, "rooms_arrange", f"{batch}:{site}", summary)
            db.bump_version(cur)
        return summary
    except RoomError as exc:
        _refuse(con, actor, "arrange", batch, site, exc)
        raise


def move(con, user, batch: str, site: str, ticket: str, room: str, seat: str) -> str | None:
    """Seat `ticket` at (room, seat) of its level and sitting; the seat's holder, if any, takes the
    ticket's old seat. Returns the swapped ticket or None."""
    actor = getattr(user, "username", "anonymous")
    try:
        _authorised(con, user, site)
        room, seat = str(room).strip().zfill(2), str(seat).strip().zfill(2)
        ticket = str(ticket or "").strip()
        if not lookup.shaped_ticket(ticket):  # what is typed is echoed and logged only when it is a ticket
            raise RoomError("准考证号格式不符：请输入考生的准考证号（不是身份证号）")
        with db.transaction(con) as cur:
            plan = _plan(cur, batch, site)
            if plan is None:
                raise RoomError("本考点尚未编排考场")
            if plan[1] == LOCKED:
                raise RoomError("考场编排已锁定，需考务人员解锁后才能调整")
            mine = cur.execute("select level, sitting, room, seat from room_seats where batch_code = $b and site_code = $s "
                               "and ticket_no = $t", {"b": batch, "s": site, "t": ticket}).fetchall()
            if not mine:
                raise RoomError(f"准考证号 {ticket} 不在本考点的考场编排中")
            level, sitting, old_room, old_seat = mine[0]
            seats = int(cur.execute("select seats from sites where site_code = $s", {"s": site}).fetchall()[0][0] or 0)
            sizes = room_sizes(seats, int(plan[0]))
            if not (room.isdigit() and 1 <= int(room) <= len(sizes) and seat.isdigit() and 1 <= int(seat) <= sizes[int(room) - 1]):
                raise RoomError(f"第 {room} 考场没有 {seat} 号座位（本考点共 {len(sizes)} 个考场，每考场最多 {plan[0]} 个座位）")
            holder = cur.execute("select ticket_no from room_seats where batch_code = $b and site_code = $s and level = $l "
                                 "and sitting = $n and room = $r and seat = $st",
                                 {"b": batch, "s": site, "l": level, "n": sitting, "r": room, "st": seat}).fetchall()
            swapped = holder[0][0] if holder else None
            if swapped == ticket:
                return None
            if swapped:
                cur.execute("update room_seats set room = $r, seat = $st where batch_code = $b and site_code = $s "
                            "and ticket_no = $t", {"r": old_room, "st": old_seat, "b": batch, "s": site, "t": swapped})
            cur.execute("update room_seats set room = $r, seat = $st where batch_code = $b and site_code = $s "
                        "and ticket_no = $t", {"r": room, "st": seat, "b": batch, "s": site, "t": ticket})
            db.audit(cur, actor, "rooms_move", f"{batch}:{site}", {"ticket": ticket, "from": f"{old_room}-{old_seat}",
                                                                    "to": f"{room}-{seat}", "swapped": swapped})
            db.bump_version(cur)
        return swapped
    except RoomError as exc:
        _refuse(con, actor, "move", batch, site, exc)
        raise


def set_locked(con, user, batch: str, site: str, locked: bool) -> None:
    """Lock the arrangement (staff or the site) or unlock it (staff only)."""
    actor = getattr(user, "username", "anonymous")
    try:
        _authorised(con, user, site, unlock=not locked)
        with db.transaction(con) as cur:
            plan = _plan(cur, batch, site)
            if plan is None:
                raise RoomError("本考点尚未编排考场")
            if (plan[1] == LOCKED) == locked:
                raise RoomError("考场编排已锁定" if locked else "考场编排未锁定")
            cur.execute("update room_plans set status = $st, locked_by = $u, locked_at = $t where batch_code = $b "
                        "and site_code = $s", {"st": LOCKED if locked else DRAFT, "u": actor if locked else None,
                                               "t": db.now(con) if locked else None, "b": batch, "s": site})
            db.audit(cur, actor, "rooms_lock" if locked else "rooms_unlock", f"{batch}:{site}")
            db.bump_version(cur)
    except RoomError as exc:
        _refuse(con, actor, "lock" if locked else "unlock", batch, site, exc)
        raise
