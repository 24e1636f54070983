"""考场编排: a site's room arrangement of a batch (domain/rooms.py has the rules) and its exam-day materials
(views/materials.py). Staff pick any site; a 考点 account sees its own (the runner binds $scope_site)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from examdash.domain import rooms
from examdash.domain.ids import mask_id
from examdash.domain.rules import LEVEL_TIMES, STAFF_ROLES
from examdash.views import exports, materials
from examdash.views.common import Run

MIME_PDF = "application/pdf"


@dataclass
class RoomsView:
    batch: str
    batch_name: str
    exam_date: str
    site_code: str
    site_name: str
    seats: int
    arranged: bool
    locked: bool
    state: str  # where the arrangement stands, in one sentence
    flags: list[str]  # what needs attention: a second sitting, unseated candidates
    summary: pd.DataFrame  # a line per room, level and sitting
    table: pd.DataFrame  # every seat: ID masked, for the page
    plan: pd.DataFrame  # the room_plan rows, for the materials
    room_seats: int
    can_unlock: bool
    pdf_problem: str | None = None  # why the PDFs cannot be made on this machine (no Chinese font)


def build(run: Run, user, batch: str, site: str | None) -> RoomsView:
    site = user.site_code if user.role == "site" else site
    state = run("room_plan_state", batch=batch, site=site)
    if state.empty:
        raise PermissionError("考点不存在或无权查看")
    s = state.iloc[0]
    plan = run("room_plan", batch=batch, site=site)
    batches = run("batches")
    b = batches[batches.batch_code == batch].iloc[0]
    arranged, locked = isinstance(s.status, str), s.status == rooms.LOCKED
    if not arranged:
        text = f"尚未编排：本考点 {int(s.registered):,} 人报名、{int(s.seats or 0):,} 个机位。"
    else:
        who = f"{s.locked_by} 于 {pd.Timestamp(s.locked_at):%m-%d %H:%M} 锁定" if locked else \
            f"{s.updated_by} 于 {pd.Timestamp(s.updated_at):%m-%d %H:%M} 编排，尚未锁定"
        text = f"{s.status}：每考场 {int(s.room_seats)} 个机位；{who}。"
    flags = []
    if arranged:
        for level, part in plan.groupby("level"):
            extra = part[part.sitting > 1]
            if len(extra):
                flags.append(f"{level}有 {len(extra):,} 人超出机位（{int(s.seats):,}），已排入第 2 场及以后（加场，"
                             "时间须另行安排）")
        if int(s.unseated):
            flags.append(f"{int(s.unseated):,} 名报名考生未编排（没有准考证号，或在编排之后报名）：补齐后请重新编排")
    summary_rows = []
    for (level, sitting, room), part in plan.groupby(["level", "sitting", "room"], sort=False):
        start, end = LEVEL_TIMES[level]
        summary_rows.append({"考场": room, "级别": level, "场次": int(sitting), "时间": f"{start}–{end}",
                             "人数": len(part), "准考证号起": part.ticket_no.min(), "准考证号止": part.ticket_no.max()})
    summary = pd.DataFrame(summary_rows, columns=["考场", "级别", "场次", "时间", "人数", "准考证号起", "准考证号止"])
    table = pd.DataFrame({"级别": plan.level, "场次": plan.sitting, "考场": plan.room, "座号": plan.seat,
                          "准考证号": plan.ticket_no, "姓名": plan["name"], "身份证号": plan.id_no.map(mask_id),
                          "院校": plan.school_name})
    return RoomsView(batch, b.batch_name, f"{pd.Timestamp(b.exam_date):%Y-%m-%d}", s.site_code, s.site_name,
                     int(s.seats or 0), arranged, locked, text, flags, summary, table, plan,
                     int(s.room_seats) if arranged else rooms.DEFAULT_ROOM_SEATS, user.role in STAFF_ROLES,
                     materials.font_problem())


def files(view: RoomsView) -> dict[str, tuple]:
    """label -> (build, file name, MIME type) of the materials, built on click."""
    plan, site, name, day = view.plan, view.site_name, view.batch_name, view.exam_date
    stem = f"{view.site_code}_{view.batch}"

    def pdf(make):
        def build() -> bytes:
            return make(plan, site, name, day)
        return build

    return {
        "签到表 PDF": (pdf(materials.sign_in_pdf), exports.file_name("签到表", stem, "pdf"), MIME_PDF),
        "门贴 PDF": (pdf(materials.door_pdf), exports.file_name("门贴", stem, "pdf"), MIME_PDF),
        "桌签 PDF": (pdf(materials.desk_pdf), exports.file_name("桌签", stem, "pdf"), MIME_PDF),
        "全部物料 .xlsx": (lambda: materials.xlsx(plan, view.batch, site, day), exports.file_name("考场物料", stem, "xlsx"),
                         exports.MIME["xlsx"]),
    }


def arrange(con, user, batch: str, site: str, room_seats) -> tuple[bool, str]:
    try:
        done = rooms.arrange(con, user, batch, site, int(room_seats) if room_seats is not None else rooms.DEFAULT_ROOM_SEATS)
    except (rooms.RoomError, ValueError) as exc:
        return False, str(exc)
    sittings = "；".join(f"{lv} {n} 场" for lv, n in done["sittings"].items())
    more = f"；{done['unseated']:,} 人没有准考证号，未编排" if done["unseated"] else ""
    return True, f"已编排 {done['seated']:,} 人（{sittings}）{more}"


def move(con, user, batch: str, site: str, ticket: str, room: str, seat: str) -> tuple[bool, str]:
    try:
        swapped = rooms.move(con, user, batch, site, ticket.strip(), room, seat)
    except rooms.RoomError as exc:
        return False, str(exc)
    return True, f"已调整 {ticket} 到第 {room} 考场 {seat} 号" + (f"，与 {swapped} 对调" if swapped else "")


def lock(con, user, batch: str, site: str, locked: bool) -> tuple[bool, str]:
    try:
        rooms.set_locked(con, user, batch, site, locked)
    except rooms.RoomError as exc:
        return False, str(exc)
    return True, "考场编排已锁定" if locked else "考场编排已解锁"
