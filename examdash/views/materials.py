"""Exam-day materials of a site's arranged rooms (下载准考证、桌签、门贴、签到表等物料): the 签到表 per room
(ticket, name, masked ID, seat, a signature column), the 门贴 (site, room, level, time, ticket range) and a
桌签 per seat, as printable PDF (A4, the Chinese font embedded as a subset) and as one .xlsx.

`rows` is the room_plan query's frame (level, sitting, room, seat, ticket_no, name, id_no, school_name …).
Text from the data is drawn through pdf_text.cell: on one line inside its cell, cut with "…" when too long, in
a second font or as "□" where the Chinese font has no glyph; the .xlsx keeps it as stored."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from examdash import config
from examdash.domain.ids import mask_id
from examdash.domain.rules import LEVEL_TIMES
from examdash.views import exports
from examdash.views.pdf_text import cell


class NoFont(RuntimeError):
    pass


@functools.cache
def _font_index(path: Path) -> int:
    """The Simplified Chinese face of a font collection (.ttc), else the first."""
    if path.suffix.lower() != ".ttc":
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    for i, font in enumerate(collection.fonts):
        family = font["name"].getDebugName(1) or ""
        if family.endswith(" SC") or "SC " in family:
            return i
    return 0


NO_FONT = ("没有找到中文字体，无法生成 PDF：请安装 fonts-noto-cjk（sudo apt-get install fonts-noto-cjk），"
           "或用环境变量 EXAMDASH_CJK_FONT 指定字体文件；.xlsx 不受影响。")


def font_problem() -> str | None:
    """Why the PDFs cannot be made here, or None."""
    return NO_FONT if config.cjk_font() is None else None


def _pdf(orientation: str = "P"):
    from fpdf import FPDF

    font = config.cjk_font()
    if font is None:
        raise NoFont(NO_FONT)
    pdf = FPDF(orientation=orientation, format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font("cjk", fname=str(font), collection_font_number=_font_index(font))
    pdf.set_font("cjk", size=11)
    return pdf


def _time(level: str) -> str:
    start, end = LEVEL_TIMES[level]
    return f"{start}–{end}"


def _groups(rows: pd.DataFrame):
    """(level, sitting, room, its rows) in the order the day runs: 中级 in the morning, then 初级."""
    order = {lv: i for i, lv in enumerate(sorted(LEVEL_TIMES, key=lambda lv: LEVEL_TIMES[lv][0]))}
    keys = sorted({(lv, int(n), r) for lv, n, r in zip(rows.level, rows.sitting, rows.room)},
                  key=lambda k: (order[k[0]], k[1], k[2]))
    for level, sitting, room in keys:
        part = rows[(rows.level == level) & (rows.sitting == sitting) & (rows.room == room)].sort_values("seat")
        yield level, sitting, room, part


def _sitting_text(sitting: int) -> str:
    return "" if sitting == 1 else f" 第{sitting}场（加场，时间另行通知）"


def _kept(text: str) -> str:
    """Text of our own (level, date, time, sitting) in a pdf_text template: kept whole, never cut."""
    return text.replace("{", "{{").replace("}", "}}")


def sign_in_pdf(rows: pd.DataFrame, site: str, batch_name: str, exam_date: str) -> bytes:
    pdf = _pdf()
    widths = (12, 32, 38, 40, 40, 28)  # mm, 190 in all: the name column fits 9 characters, 12 set smaller
    heads = ("座号", "准考证号", "姓名", "身份证号", "院校", "签名")
    for level, sitting, room, part in _groups(rows):
        pdf.add_page()
        pdf.set_font_size(15)
        cell(pdf, 0, 9, "{batch} 签到表", fields={"batch": batch_name}, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(11)
        cell(pdf, 0, 7, "考点：{site}　第{room}考场　" + _kept(f"{level}　{exam_date} {_time(level)}{_sitting_text(sitting)}"),
             fields={"site": site, "room": room}, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

        def header():
            for w, h in zip(widths, heads):
                pdf.cell(w, 8, h, border=1, align="C")
            pdf.ln()

        header()
        for r in part.itertuples():
            if pdf.will_page_break(9):
                pdf.add_page()
                header()
            values = (r.seat, r.ticket_no, r.name, mask_id(r.id_no) if isinstance(r.id_no, str) else "",
                      r.school_name, "")
            for w, v in zip(widths, values):
                cell(pdf, w, 9, v, shrink_to=8, border=1, align="C")
            pdf.ln()
        pdf.ln(3)
        pdf.cell(0, 7, f"应到 {len(part)} 人　实到 ____ 人　缺考 ____ 人　监考员签名：__________", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def door_pdf(rows: pd.DataFrame, site: str, batch_name: str, exam_date: str) -> bytes:
    pdf = _pdf("L")
    for level, sitting, room, part in _groups(rows):
        pdf.add_page()
        lines = ((22, 16, "{batch}", {"batch": batch_name}), (18, 14, "考点：{site}", {"site": site}),
                 (60, 40, "第{room}考场", {"room": room}),  # (size, height, template, fields)
                 (22, 14, _kept(f"{level}　{exam_date} {_time(level)}{_sitting_text(sitting)}"), {}))
        tickets = sorted(part.ticket_no)
        lines += ((22, 14, "准考证号 {first} 至 {last}" + _kept(f"，共 {len(tickets)} 人"),
                   {"first": tickets[0], "last": tickets[-1]}),)
        for size, height, template, fields in lines:
            pdf.set_font_size(size)
            cell(pdf, 0, height, template, fields=fields, shrink_to=size * 0.6, align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def desk_pdf(rows: pd.DataFrame, site: str, batch_name: str, exam_date: str) -> bytes:
    pdf = _pdf()
    pdf.set_auto_page_break(auto=False)
    card_w, card_h, per_row, per_page = 90, 52, 2, 10
    i = 0
    for level, sitting, room, part in _groups(rows):
        for r in part.itertuples():
            if i % per_page == 0:
                pdf.add_page()
            col, line = i % per_row, (i % per_page) // per_row
            x, y = 12 + col * (card_w + 6), 12 + line * (card_h + 4)
            pdf.rect(x, y, card_w, card_h)
            # (top, size, height, template, fields): the fields (the data) are cut to fit, the rest is kept
            lines = ((4, 10, 6, "{site}　第{room}考场　" + _kept(level + _sitting_text(sitting)), {"site": site, "room": room}),
                     (13, 26, 14, "{seat} 号", {"seat": r.seat}), (30, 14, 8, "{name}", {"name": r.name}),
                     (40, 11, 6, "准考证号 {ticket}", {"ticket": r.ticket_no}))
            for top, size, height, template, fields in lines:
                pdf.set_xy(x, y + top)
                pdf.set_font_size(size)
                cell(pdf, card_w, height, template, fields=fields, shrink_to=size * 0.6, align="C")
            i += 1
    return bytes(pdf.output())


def sheets(rows: pd.DataFrame, batch: str, site: str, exam_date: str) -> dict[str, pd.DataFrame]:
    """The same materials as sheets: 签到表 (every room), 门贴 (a line per room and sitting), 桌签. The 签到表
    sheet has the sign-in import's columns (考试批次, 准考证号, 考场, 座号, 签到状态): filled in on the day, it
    goes back in through the 签到 import with the rooms and seats of this arrangement."""
    sign = pd.DataFrame({
        "考试批次": batch, "级别": rows.level, "场次": rows.sitting, "考场": rows.room, "座号": rows.seat,
        "准考证号": rows.ticket_no, "姓名": rows.name, "身份证号": rows.id_no.map(mask_id), "院校": rows.school_name,
        "签到状态": "", "签名": "",
    })
    doors = []
    for level, sitting, room, part in _groups(rows):
        tickets = sorted(part.ticket_no)
        doors.append({"考点": site, "考场": room, "级别": level, "场次": sitting,
                      "时间": f"{exam_date} {_time(level)}", "准考证号起": tickets[0], "准考证号止": tickets[-1],
                      "人数": len(tickets)})
    desks = pd.DataFrame({"考场": rows.room, "级别": rows.level, "场次": rows.sitting, "座号": rows.seat,
                          "准考证号": rows.ticket_no, "姓名": rows.name})
    return {"签到表": sign, "门贴": pd.DataFrame(doors), "桌签": desks}


def xlsx(rows: pd.DataFrame, batch: str, site: str, exam_date: str) -> bytes:
    return exports.to_xlsx(sheets(rows, batch, site, exam_date))


__all__ = ["NoFont", "desk_pdf", "door_pdf", "font_problem", "sheets", "sign_in_pdf", "xlsx"]
