"""Room arrangement and exam-day materials: seats per level from the site's registrations and seats, a second
sitting only when seats run short (flagged), moves that swap, the lock, who may do what, and the PDFs and
.xlsx (the PDFs read back as text; the filled 签到表 goes back in through the sign-in import)."""

from __future__ import annotations

import io
import re

import openpyxl
import pandas as pd
import pypdfium2
import pytest
from helpers import app_rows, rows, scalar

from examdash.domain import auth, rooms
from examdash.domain.ids import mask_id
from examdash.importers import import_file
from examdash.store import queries
from examdash.views import materials

BATCH = "2023-1"


def test_a_proposal_fills_rooms_in_ticket_order_and_adds_a_sitting_only_when_seats_run_short():
    cands = pd.DataFrame({"level": ["中级"] * 5 + ["初级"] * 2, "ticket_no": [f"T{i}" for i in (5, 1, 4, 2, 3, 7, 6)]})
    layout = rooms.propose(cands, seats=4, room_seats=3)
    mid = layout[layout.level == "中级"]
    assert list(zip(mid.ticket_no, mid.room, mid.seat, mid.sitting)) == [
        ("T1", "01", "01", 1), ("T2", "01", "02", 1), ("T3", "01", "03", 1), ("T4", "02", "01", 1), ("T5", "01", "01", 2)]
    junior = layout[layout.level == "初级"]  # the afternoon level uses the same seats again
    assert list(zip(junior.ticket_no, junior.room, junior.seat, junior.sitting)) == [("T6", "01", "01", 1),
                                                                                    ("T7", "01", "02", 1)]
    assert rooms.room_sizes(65, 30) == [30, 30, 5]
    with pytest.raises(rooms.RoomError, match="机位数为 0"):
        rooms.propose(cands, seats=0, room_seats=30)


@pytest.fixture
def arranged(fresh_db):
    """site1's site arranged by its own account, 20 seats a room."""
    site = auth.reload_user(fresh_db, "site1")
    summary = rooms.arrange(fresh_db, site, BATCH, site.site_code, 20)
    return site, summary


def test_the_site_arranges_its_rooms_every_candidate_once(fresh_db, arranged):
    site, summary = arranged
    plan = queries.run(fresh_db, "room_plan", {"batch": BATCH, "site": None}, site.scope)
    tickets = {r[0] for r in rows(fresh_db, "select ticket_no from registrations where batch_code = $b and site_code = $s "
                                            "and status = '正常' and ticket_no is not null", {"b": BATCH, "s": site.site_code})}
    assert sorted(plan.ticket_no) == sorted(tickets) and summary["seated"] == len(tickets)
    assert not plan.duplicated(["level", "sitting", "room", "seat"]).any()
    seats = scalar(fresh_db, "select seats from sites where site_code = $s", {"s": site.site_code})
    for level, part in plan.groupby("level"):
        assert part.sitting.max() == -(-len(part) // seats)  # a second sitting only past the seats
    state = queries.run(fresh_db, "room_plan_state", {"batch": BATCH, "site": None}, site.scope).iloc[0]
    assert (state.status, int(state.room_seats), state.updated_by) == (rooms.DRAFT, 20, "site1")


def test_moves_swap_and_the_lock_holds_until_staff_unlock(fresh_db, arranged):
    site, _ = arranged
    plan = queries.run(fresh_db, "room_plan", {"batch": BATCH, "site": None}, site.scope)
    a, b = plan[plan.level == plan.level.iat[0]].iloc[0], plan[plan.level == plan.level.iat[0]].iloc[1]
    assert rooms.move(fresh_db, site, BATCH, site.site_code, a.ticket_no, b.room, b.seat) == b.ticket_no
    after = queries.run(fresh_db, "room_plan", {"batch": BATCH, "site": None}, site.scope).set_index("ticket_no")
    assert (after.loc[a.ticket_no, "seat"], after.loc[b.ticket_no, "seat"]) == (b.seat, a.seat)
    with pytest.raises(rooms.RoomError, match="没有 99 号座位"):
        rooms.move(fresh_db, site, BATCH, site.site_code, a.ticket_no, "01", "99")
    rooms.set_locked(fresh_db, site, BATCH, site.site_code, True)
    with pytest.raises(rooms.RoomError, match="已锁定"):
        rooms.arrange(fresh_db, site, BATCH, site.site_code, 30)
    with pytest.raises(rooms.RoomError, match="只能由考务人员解锁"):
        rooms.set_locked(fresh_db, site, BATCH, site.site_code, False)
    rooms.set_locked(fresh_db, auth.reload_user(fresh_db, "staff"), BATCH, site.site_code, False)
    rooms.arrange(fresh_db, site, BATCH, site.site_code, 30)
    actions = [r[0] for r in rows(fresh_db, "select action from audit_log where action like 'rooms%' order by audit_id")]
    assert actions == ["rooms_arrange", "rooms_move", "rooms_lock", "rooms_unlock", "rooms_arrange"]
    refused = app_rows(fresh_db, "select action from request_events where action like 'rooms%' order by event_id")
    assert refused == [("rooms_refused",)] * 3  # refusals are request events: no lake snapshot


def test_a_site_cannot_arrange_another_site_nor_a_school(fresh_db):
    site = auth.reload_user(fresh_db, "site1")
    other = scalar(fresh_db, "select site_code from sites where site_code <> $s order by site_code limit 1",
                   {"s": site.site_code})
    with pytest.raises(rooms.RoomError, match="只能编排本考点"):
        rooms.arrange(fresh_db, site, BATCH, other)
    with pytest.raises(rooms.RoomError, match="只能编排本考点"):
        rooms.arrange(fresh_db, auth.reload_user(fresh_db, "school1"), BATCH, site.site_code)
    assert not rows(fresh_db, "select 1 from room_seats")


def _text(pdf: bytes) -> str:
    """The text a PDF reader gets from every page, without white space."""
    doc = pypdfium2.PdfDocument(pdf)
    return re.sub(r"\s+", "", "".join(page.get_textpage().get_text_range() for page in doc))


def _pages(pdf: bytes) -> int:
    return len(pypdfium2.PdfDocument(pdf))


def test_the_materials_carry_the_rooms_in_chinese_and_the_sign_in_sheet_goes_back_in(fresh_db, arranged, tmp_path):
    site, _ = arranged
    plan = queries.run(fresh_db, "room_plan", {"batch": BATCH, "site": None}, site.scope)
    first = plan.iloc[0]
    sign = _text(materials.sign_in_pdf(plan, site.site_name, "2023年第一次全国统考", "2023-05-27"))
    assert f"考点：{site.site_name}第{first.room}考场{first.level}2023-05-2708:30–11:30" in sign
    assert "签到表" in sign and first.ticket_no in sign and first["name"] in sign
    assert mask_id(first.id_no) in sign and first.id_no not in sign  # the ID masked as everywhere
    door = _text(materials.door_pdf(plan, site.site_name, "2023年第一次全国统考", "2023-05-27"))
    mid = plan[(plan.level == "中级") & (plan.room == "01") & (plan.sitting == 1)].ticket_no
    assert "第01考场" in door and f"准考证号{mid.min()}至{mid.max()}，共{len(mid)}人" in door
    desk = _text(materials.desk_pdf(plan, site.site_name, "2023年第一次全国统考", "2023-05-27"))
    assert all(f"准考证号{t}" in desk for t in plan.ticket_no)
    assert _pages(materials.desk_pdf(plan, "x", "y", "z")) == -(-len(plan) // 10)

    # the 签到表 sheet, filled in on the day, is a sign-in import: the rooms and seats come back with it
    wb = openpyxl.load_workbook(io.BytesIO(materials.xlsx(plan, BATCH, site.site_name, "2023-05-27")))
    assert wb.sheetnames == ["签到表", "门贴", "桌签"]
    ws = wb["签到表"]
    status_col = [c.value for c in ws[1]].index("签到状态") + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(r, status_col, "已签到")
    path = tmp_path / "签到表_回填.xlsx"
    wb.save(path)
    # the demo's sign-ins of 2023-1 are stored already: replacing their rooms is shown first, written once confirmed
    assert "请核对后确认导入" in import_file(fresh_db, "attendance", path, actor="test").summary()
    res = import_file(fresh_db, "attendance", path, actor="test", confirm=True)
    assert res.ok and res.replaced == len(plan), res.summary()
    back = dict((t, (r, s)) for t, r, s in rows(fresh_db, "select ticket_no, room, seat from attendance "
                                                          "where batch_code = $b", {"b": BATCH}))
    assert all(back[t] == (r, s) for t, r, s in zip(plan.ticket_no, plan.room, plan.seat))


def test_without_a_chinese_font_the_pdfs_say_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("EXAMDASH_CJK_FONT", str(tmp_path / "none.ttc"))
    assert "fonts-noto-cjk" in materials.font_problem()
    with pytest.raises(materials.NoFont):
        materials.sign_in_pdf(pd.DataFrame(columns=["level", "sitting", "room", "seat", "ticket_no"]), "x", "y", "z")


def test_a_sign_in_sheet_without_rooms_takes_them_from_the_arrangement(fresh_db, arranged, tmp_path):
    from examdash.store import db

    site, _ = arranged
    plan = queries.run(fresh_db, "room_plan", {"batch": BATCH, "site": None}, site.scope)
    with db.transaction(fresh_db) as cur:  # the site's sign-ins not imported yet
        cur.execute("delete from attendance where batch_code = $b and list_contains($t, ticket_no)",
                    {"b": BATCH, "t": plan.ticket_no.tolist()})
    path = tmp_path / "签到_无考场.csv"
    pd.DataFrame({"考试批次": BATCH, "准考证号": plan.ticket_no, "签到状态": "已签到"}).to_csv(path, index=False)
    res = import_file(fresh_db, "attendance", path, actor="test")
    assert res.ok and res.added == len(plan), res.summary()
    back = dict((t, (r, s)) for t, r, s in rows(fresh_db, "select ticket_no, room, seat from attendance "
                                                          "where batch_code = $b", {"b": BATCH}))
    assert all(back[t] == (r, s) for t, r, s in zip(plan.ticket_no, plan.room, plan.seat))
