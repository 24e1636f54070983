"""Names and other text from the data on the exam-day PDFs (签到表, 门贴, 桌签): a name of 991, 939 or 2,175
characters, Arabic, Hebrew, emoji, a script neither font has, invisible characters, a bidi override.

Each PDF is built from site1's arrangement of the seeded demo (2023-1), with some candidates', schools',
the site's and a room's text replaced. What the view draws is recorded at FPDF.cell (where it is, how wide
it may be, how wide fpdf2 measures the text, whether an embedded font has each glyph), and the PDF itself
is checked independently: every character pdfium finds lies inside the cell it was drawn in, and each
name's cell, rendered, has ink in it.
"""

from __future__ import annotations

import io
import math
import unicodedata
from dataclasses import dataclass

import numpy as np
import openpyxl
import pypdfium2
import pytest
from fpdf import FPDF
from helpers import copy_db

from examdash.domain import auth, rooms
from examdash.store import db, queries
from examdash.views import materials, pdf_text

BATCH, BATCH_NAME, DAY = "2023-1", "2023年第一次全国统考", "2023-05-27"
NAMES = {
    "991": ("买买提·艾力" * 200)[:991],
    "939": ("Wolfeschlegelsteinhausenbergerdorff" * 30)[:939],
    "2175": "X" * 2175,
    "arabic": "محمد عبد الله",
    "hebrew": "דוד כהן",
    "emoji": "😀👍🏽🧑\u200d🚀",
    "mixed": "李明محمدדוד😀Ωμέγα",
    "thai": "สมชาย",  # in neither font
    "invisible": "\u200b\u2060\u200d",
    "override": "\u202e李明abc",
    "uyghur": "买买提江·阿不都热合曼",  # a real name that is long: set smaller, not cut
}
SCHOOLS = ("北京" * 200 + "职业技术学院", "جامعة بكين للتكنولوجيا", "אוניברסיטה", "🏫🏫🏫")
SITE = "很长的考点名称" * 60 + "مركز الامتحان"
ROOM = "第一教学楼东侧阶梯教室" * 40 + "אולם"
MM = 25.4 / 72  # one PDF point in mm


@dataclass
class Drawn:
    page: int
    x: float  # mm from the left edge
    y: float  # mm from the top edge
    w: float  # the cell's width (w=0 resolved to the right margin)
    h: float
    room: float  # the width the text may take: the cell less its inner margins
    size: float  # font size, points
    text: str  # as handed to FPDF.cell
    used: float  # get_string_width(text), as fpdf2 measures it for the cell
    missing: str  # characters no embedded font has a glyph for


@pytest.fixture(scope="module")
def plan(demo_db_path, tmp_path_factory):
    """site1's arrangement of 2023-1 (20 seats a room) and its site name, on a copy of the demo database."""
    path = copy_db(demo_db_path, tmp_path_factory.mktemp("materials_names") / "demo.ducklake")
    con = db.connect(path)
    try:
        site = auth.reload_user(con, "site1")
        rooms.arrange(con, site, BATCH, site.site_code, 20)
        frame = queries.run(con, "room_plan", {"batch": BATCH, "site": None}, site.scope)
    finally:
        con.close()
    return frame, site.site_name


def _groups(frame):
    return [(level, sitting, room, part.index) for level, sitting, room, part in materials._groups(frame)]


@pytest.fixture(scope="module")
def hostile(plan):
    """The plan with NAMES on the first room's first seats, hostile school names there, and the second room renamed."""
    frame, _ = plan
    frame = frame.copy()
    groups = _groups(frame)
    first = list(groups[0][3][: len(NAMES)])
    assert len(first) == len(NAMES)
    frame.loc[first, "name"] = list(NAMES.values())
    frame.loc[first, "school_name"] = [SCHOOLS[i % len(SCHOOLS)] for i in range(len(first))]
    frame.loc[groups[1][3], "room"] = ROOM
    return frame


@pytest.fixture
def recorded(monkeypatch):
    """Every FPDF.cell call of the PDFs built meanwhile, as Drawn."""
    drawn: list[Drawn] = []
    cell = FPDF.cell

    def recording(self, w=None, h=None, text="", *args, **kwargs):
        width = w if w else self.w - self.r_margin - self.x
        fonts = [f.cmap for f in self.fonts.values()]
        drawn.append(Drawn(self.page, self.x, self.y, width, h, width - 2 * self.c_margin, self.font_size_pt, text,
                           self.get_string_width(text) if text else 0.0,
                           "".join(ch for ch in text if not any(ord(ch) in cmap for cmap in fonts))))
        return cell(self, w, h, text, *args, **kwargs)

    monkeypatch.setattr(FPDF, "cell", recording)
    return drawn


def _build(recorded, make, frame, site):
    start = len(recorded)
    data = make(frame, site, BATCH_NAME, DAY)
    return data, recorded[start:]


def _visible(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch) not in ("Mn", "Me", "Cf", "Cc", "Zs")


def _assert_fits_and_draws(drawn: list[Drawn]) -> None:
    for d in drawn:
        assert d.used <= d.room + 1e-6, f"{d.text[:40]!r}: {d.used:.1f} mm in a cell of {d.room:.1f} mm"
        assert not d.missing, f"{d.text[:40]!r}: no glyph for {d.missing!r}"
        assert "\n" not in d.text


def _assert_inside_cells(pdf: bytes, drawn: list[Drawn], tolerance: float = 0.5) -> None:
    """Every character pdfium finds lies, left to right, inside a cell drawn on its page at its height."""
    doc = pypdfium2.PdfDocument(pdf)
    for number, page in enumerate(doc, start=1):
        width, height = page.get_size()
        cells = [d for d in drawn if d.page == number]
        text = page.get_textpage()
        for i in range(text.count_chars()):
            left, bottom, right, top = text.get_charbox(i)
            if right - left <= 0 or top - bottom <= 0:
                continue  # a space
            x0, x1 = left * MM, right * MM
            middle = (height - (top + bottom) / 2) * MM
            assert 0 <= x0 and x1 <= width * MM and 0 <= middle <= height * MM
            assert any(d.x - tolerance <= x0 and x1 <= d.x + d.w + tolerance and d.y <= middle <= d.y + d.h
                       for d in cells), f"page {number}: {text.get_text_range(i, 1)!r} at {x0:.1f}–{x1:.1f} mm"


def _inked(pdf: bytes, d: Drawn, inset: float = 0.8) -> int:
    """Dark pixels inside a drawn cell (its borders left out)."""
    scale = 2
    page = pypdfium2.PdfDocument(pdf)[d.page - 1]
    pixels = page.render(scale=scale, grayscale=True).to_numpy()
    px = scale / MM  # pixels per mm
    area = pixels[int((d.y + inset) * px): int((d.y + d.h - inset) * px), int((d.x + inset) * px): int((d.x + d.w - inset) * px)]
    return int((np.asarray(area) < 128).sum())


def _name_cells(drawn: list[Drawn], frame, kind: str) -> dict[str, Drawn]:
    """NAMES key -> the cell its name was drawn in (签到表: after the ticket; 桌签: before 准考证号 …)."""
    ticket_of = dict(zip(frame["name"], frame.ticket_no))
    out = {}
    for key, name in NAMES.items():
        ticket = ticket_of[name]
        if kind == "sign":
            at = next(i for i, d in enumerate(drawn) if d.text == ticket)
            out[key] = drawn[at + 1]
        else:
            at = next(i for i, d in enumerate(drawn) if d.text == f"准考证号 {ticket}")
            out[key] = drawn[at - 1]
    return out


def _assert_names(pdf: bytes, cells: dict[str, Drawn]) -> None:
    for key, d in cells.items():
        assert any(map(_visible, d.text)) and _inked(pdf, d) > 20, f"{key}: nothing visible in {d.text!r}"
    for key in ("991", "939", "2175"):  # cut with "…", the beginning kept
        text = cells[key].text
        assert text.endswith(pdf_text.ELLIPSIS) and len(text) >= 4 and NAMES[key].startswith(text[:-1]), key
    for key in ("arabic", "hebrew"):  # their own letters (the second font), right to left, unshaped
        assert set(cells[key].text) == set(NAMES[key]) and cells[key].text != NAMES[key]
    assert "😀" in cells["emoji"].text and pdf_text.REPLACEMENT in cells["emoji"].text
    assert cells["thai"].text == pdf_text.REPLACEMENT * len(NAMES["thai"])
    assert cells["invisible"].text == pdf_text.REPLACEMENT
    assert cells["override"].text == "李明abc"  # the override is left out, not obeyed
    assert cells["uyghur"].text == NAMES["uyghur"]  # whole, set smaller


def test_the_sign_in_sheet_keeps_every_name_in_its_cell(plan, hostile, recorded):
    frame, site = plan
    pdf, drawn = _build(recorded, materials.sign_in_pdf, hostile, SITE)
    _assert_fits_and_draws(drawn)
    _assert_inside_cells(pdf, drawn)
    cells = _name_cells(drawn, hostile, "sign")
    _assert_names(pdf, cells)
    assert cells["uyghur"].size < 11 and cells["991"].size == 11
    # the line under the title: the site cut, the room, level and time whole
    level, _, room, _ = _groups(hostile)[0]
    heads = [d.text for d in drawn if d.text.startswith("考点：")]
    assert heads[0].endswith(f"…　第{room}考场　{level}　{DAY} 08:30–11:30") and heads[0].startswith("考点：很长的考点名称")
    assert any(pdf_text.ELLIPSIS + "考场" in t for t in heads)  # the long room's page
    # long names add no page: as many pages as with the demo's own names
    plain, _ = _build(recorded, materials.sign_in_pdf, frame, site)
    assert len(pypdfium2.PdfDocument(pdf)) == len(pypdfium2.PdfDocument(plain))
    school_cells = {d.text for d in drawn} & {s for s in SCHOOLS}
    assert SCHOOLS[0] not in school_cells and "🏫🏫🏫" not in school_cells  # cut / replaced, never as stored


def test_the_desk_labels_keep_every_name_on_its_label(hostile, recorded):
    pdf, drawn = _build(recorded, materials.desk_pdf, hostile, SITE)
    _assert_fits_and_draws(drawn)
    _assert_inside_cells(pdf, drawn)
    _assert_names(pdf, _name_cells(drawn, hostile, "desk"))
    assert len(pypdfium2.PdfDocument(pdf)) == math.ceil(len(hostile) / 10)  # 10 labels a page, whatever the names
    # every label's lines stay within its 90 mm: no text crosses into the next label
    assert all(d.w == 90 for d in drawn)


def test_the_door_signs_keep_the_site_and_room_on_the_page(hostile, recorded):
    pdf, drawn = _build(recorded, materials.door_pdf, hostile, SITE)
    _assert_fits_and_draws(drawn)
    _assert_inside_cells(pdf, drawn)
    assert len(pypdfium2.PdfDocument(pdf)) == len(_groups(hostile))  # one page a room and sitting
    rooms_drawn = [d for d in drawn if d.text.startswith("第") and d.text.endswith("考场")]
    long_room = [d for d in rooms_drawn if "第一教学楼" in d.text]
    assert long_room and all(d.text.endswith(pdf_text.ELLIPSIS + "考场") for d in long_room)
    assert all(d.text.startswith("考点：很长的考点名称") and d.text.endswith(pdf_text.ELLIPSIS)
               for d in drawn if d.text.startswith("考点："))


def test_the_xlsx_keeps_the_text_as_stored(hostile):
    wb = openpyxl.load_workbook(io.BytesIO(materials.xlsx(hostile, BATCH, SITE, DAY)))

    def column(sheet, label):
        ws = wb[sheet]
        j = [c.value for c in ws[1]].index(label)
        return [row[j] for row in ws.iter_rows(min_row=2, values_only=True)]

    names = column("签到表", "姓名")
    assert all(name in names for name in NAMES.values())
    assert names == hostile["name"].tolist() and column("桌签", "姓名") == hostile["name"].tolist()
    assert set(SCHOOLS) <= set(column("签到表", "院校"))
    assert set(column("门贴", "考点")) == {SITE} and ROOM in column("门贴", "考场")


def test_without_the_second_font_letters_print_as_replacements(monkeypatch, recorded):
    monkeypatch.setenv("EXAMDASH_FALLBACK_FONT", "")
    pdf = materials._pdf()
    pdf.add_page()
    for name in (NAMES["arabic"], NAMES["hebrew"], "😀"):
        drawn = pdf_text.cell(pdf, 80, 9, name, border=1)
        assert drawn == "".join(" " if ch == " " else pdf_text.REPLACEMENT for ch in name)
    assert "张 三" == pdf_text.cell(pdf, 26, 9, "张\t三") and pdf_text.cell(pdf, 26, 9, "") == ""
    assert pdf_text.SECOND_FONT not in pdf.fonts
    _assert_fits_and_draws(recorded)
