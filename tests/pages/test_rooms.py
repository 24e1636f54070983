"""AppTest of 考场编排: a 考点 account arranges its own rooms, downloads the materials (PDFs read back as text)
and locks; staff pick the site, see the same and are the only ones who unlock."""

from __future__ import annotations

import re

import pypdfium2
from helpers import page_as, rows, table, texts


def _pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(data)))


def test_a_site_arranges_downloads_and_locks_and_only_staff_unlock(private_app, downloads):
    at = page_as("rooms", "site1", private_app, batch="2023-1")
    assert not at.exception
    assert "尚未编排" in texts(at.caption) and not at.get("download_button")
    at.number_input(key="rooms_room_seats").set_value(25)
    at.button(key="rooms_arrange").click().run()
    assert "已编排" in texts(at.success)
    site_code, seats = rows(private_app, "select u.site_code, s.seats from users u join sites s using (site_code) "
                                         "where u.username = 'site1'")[0]
    seated = rows(private_app, "select count(*) from room_seats where site_code = $s", {"s": site_code})[0][0]
    summary = table(at, "考场", "级别", "场次", "时间", "人数")
    assert int(summary["人数"].sum()) == seated and summary["考场"].max() <= f"{-(-seats // 25):02d}"
    seats_table = table(at, "级别", "场次", "考场", "座号", "准考证号")
    first = seats_table.iloc[0]
    by_label = {b.proto.label: b for b in at.get("download_button")}
    assert set(by_label) == {"签到表 PDF", "门贴 PDF", "桌签 PDF", "全部物料 .xlsx"}
    sign = _pdf_text(downloads(by_label["签到表 PDF"]))
    assert f"第{first['考场']}考场" in sign and first["准考证号"] in sign and first["姓名"] in sign

    at.button(key="rooms_lock").click().run()
    assert "已锁定" in texts(at.success)
    assert at.button(key="rooms_arrange").disabled and not [b for b in at.button if b.key == "rooms_unlock"]

    staff = page_as("rooms", "staff", private_app, batch="2023-1")
    staff.selectbox(key="rooms_site").set_value(site_code).run()
    assert not staff.exception and "已锁定" in texts(staff.caption)
    staff.button(key="rooms_unlock").click().run()
    assert "已解锁" in texts(staff.success)
