"""Files as exam offices really send them: a 填表说明 sheet before the data, several sheets, old .xls
workbooks, 合计 / 制表人 / 导出时间 lines under the data, codes and numbers typed in full width.

Every row of data comes from examdash.demo; the workbooks are written here (xlsxwriter for .xlsx, and
a small BIFF8 writer below for .xls, since nothing installed writes the old format).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from helpers import ROOT, find_line, id_ending_in_x, rows, wrong_check_char

from examdash import demo
from examdash.importers import import_file, reading
from examdash.importers.kinds import KINDS, Checker, clean_code, half_width
from examdash.importers.reading import ReadError

REG = KINDS["registrations"]
TITLE = "2023年第二次数字营销技术应用全国统考 报名信息表"
INSTRUCTIONS = [["填表说明"], ["1. 身份证号填写 18 位，末位 X 大写"], ["2. 级别填写 初级 或 中级"], ["版本", 3]]
SHEET_WARNING = "工作簿中有多张表符合：报名、补报；已使用「报名」（导入页可选择工作表，命令行用 --sheet）"


@pytest.fixture
def regs(demo_frames):
    return demo_frames["registrations"]["2023-2"].head(12).copy().reset_index(drop=True)


def _cells(frame: pd.DataFrame, title: str | None = None) -> list[list]:
    out = [[title]] if title else []
    return out + [list(frame.columns), *[[None if pd.isna(v) else str(v) for v in r] for r in frame.values.tolist()]]


def write_workbook(path: Path, sheets: list[tuple[str, list[list]]], *, inline: bool = False) -> Path:
    """An .xlsx of several sheets; str cells as text, numbers as numbers. inline=True writes inline
    strings (as the demo exports and xlsxwriter's constant_memory do), else shared strings (as Excel)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": inline})
    for name, cells in sheets:
        ws = wb.add_worksheet(name)
        for i, row in enumerate(cells):
            for j, v in enumerate(row):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.write_number(i, j, v)
                elif v is not None:
                    ws.write_string(i, j, str(v))
    wb.close()
    return path


# ---------------------------------------------------------------- a minimal .xls (BIFF8 in an OLE2 file)

def _record(kind: int, body: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def _bof(substream: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, substream, 0x0DBB, 0x07CC, 0, 0x06))


def _biff8(sheets: list[tuple[str, list[list]]]) -> bytes:
    """A BIFF8 workbook stream: the strings in one SST, text cells as LABELSST, numbers as NUMBER."""
    strings: dict[str, int] = {}
    for _, cells in sheets:
        for row in cells:
            for v in row:
                if isinstance(v, str):
                    strings.setdefault(v, len(strings))
    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings)
    assert len(sst) <= 8224, "a test workbook this writer can hold has no CONTINUE record"
    bodies = []
    for _, cells in sheets:
        out = [_bof(0x0010), _record(0x0200, struct.pack("<IIHHH", 0, len(cells), 0, max(map(len, cells)), 0))]
        for i, row in enumerate(cells):
            for j, v in enumerate(row):
                if isinstance(v, str):
                    out.append(_record(0x00FD, struct.pack("<HHHI", i, j, 0, strings[v])))
                elif v is not None:
                    out.append(_record(0x0203, struct.pack("<HHHd", i, j, 0, float(v))))
        bodies.append(b"".join(out) + _record(0x000A))

    def book(offsets):
        sheet_records = b"".join(
            _record(0x0085, struct.pack("<IBBBB", at, 0, 0, len(name), 1) + name.encode("utf-16-le"))
            for at, (name, _) in zip(offsets, sheets))
        return (_bof(0x0005) + _record(0x0042, struct.pack("<H", 1200)) + sheet_records
                + _record(0x00FC, sst) + _record(0x000A))

    at = len(book([0] * len(sheets)))
    offsets = []
    for body in bodies:
        offsets.append(at)
        at += len(body)
    return book(offsets) + b"".join(bodies)


def _ole(stream: bytes) -> bytes:
    """An OLE2 compound file (512-byte sectors) holding one stream named Workbook, padded to 4096
    bytes so that it lives in ordinary sectors (no mini stream)."""
    size = 512
    stream += b"\0" * (max(4096, -(-len(stream) // size) * size) - len(stream))
    n_data = len(stream) // size
    n_fat = 1
    while n_data + 1 + n_fat > 128 * n_fat:
        n_fat += 1
    end, free = 0xFFFFFFFE, 0xFFFFFFFF
    fat = [*range(1, n_data), end, end] + [0xFFFFFFFD] * n_fat
    fat += [free] * (128 * n_fat - len(fat))

    def entry(name: str, kind: int, child: int, start: int, length: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0" if name else b""
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", free, free, child) + b"\0" * 36 + struct.pack("<IQ", start, length))

    directory = (entry("Root Entry", 5, 1, end, 0) + entry("Workbook", 2, free, 0, len(stream))
                 + entry("", 0, free, 0, 0) * 2)
    difat = [*range(n_data + 1, n_data + 1 + n_fat)] + [free] * (109 - n_fat)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<9I", 0, n_fat, n_data, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", *difat))
    return header + stream + directory + struct.pack(f"<{128 * n_fat}I", *fat)


def write_xls(path: Path, sheets: list[tuple[str, list[list]]]) -> Path:
    path.write_bytes(_ole(_biff8(sheets)))
    return path


# ---------------------------------------------------------------- several sheets

@pytest.mark.parametrize("inline", [False, True], ids=["shared strings", "inline strings"])
def test_instructions_sheet_first_then_data_imports(empty_db, tmp_path, regs, inline):
    path = write_workbook(tmp_path / "报名.xlsx", [("填表说明", INSTRUCTIONS), ("报名", _cells(regs, TITLE))],
                          inline=inline)
    raw = reading.read_table(path, REG.alias_map, REG.required)
    assert (raw.sheet, raw.sheets_matching, raw.header_row) == ("报名", ["报名"], 2)
    assert raw.row_numbers == list(range(3, 3 + len(regs)))
    result = import_file(empty_db, "registrations", path)
    assert result.ok, "\n".join(result.lines())
    assert result.added == len(regs) and result.sheet == "报名" and result.sheets_matching == ["报名"]
    assert not any("多张表" in w.message for w in result.warnings)
    assert rows(empty_db, "select count(*) from registrations where batch_code = '2023-2'") == [(len(regs),)]


def _two_sheets(tmp_path, regs, suffix=".xlsx") -> Path:
    sheets = [("填表说明", INSTRUCTIONS), ("报名", _cells(regs.head(7))), ("补报", _cells(regs.tail(3), TITLE))]
    path = tmp_path / f"报名{suffix}"
    return write_xls(path, sheets) if suffix == ".xls" else write_workbook(path, sheets)


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_two_matching_sheets_the_first_is_used_and_said(empty_db, tmp_path, regs, suffix):
    path = _two_sheets(tmp_path, regs, suffix)
    result = import_file(empty_db, "registrations", path, dry_run=True)
    assert result.ok, "\n".join(result.lines())
    assert (result.rows_total, result.sheet, result.sheets_matching) == (7, "报名", ["报名", "补报"])
    assert f"警告 {path.name}:-:-: {SHEET_WARNING}" in result.lines()

    other = import_file(empty_db, "registrations", path, dry_run=True, sheet="补报")
    assert other.ok, "\n".join(other.lines())
    assert (other.rows_total, other.sheet, other.sheets_matching, other.header_row) == (3, "补报", ["报名", "补报"], 2)
    assert not any("多张表" in w.message for w in other.warnings)
    assert other.preview["身份证号"].tolist() == regs.tail(3)["身份证号"].tolist()


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_an_unknown_sheet_name_lists_the_sheets(empty_db, tmp_path, regs, suffix):
    path = _two_sheets(tmp_path, regs, suffix)
    with pytest.raises(ReadError, match="工作簿中没有名为「报名表」的工作表（现有：填表说明、报名、补报）"):
        reading.read_table(path, REG.alias_map, REG.required, sheet="报名表")
    result = import_file(empty_db, "registrations", path, sheet="报名表")
    assert not result.ok and "现有：填表说明、报名、补报" in result.lines()[0]


def test_a_workbook_where_no_sheet_fits_names_the_sheets_looked_at(tmp_path, regs):
    path = _two_sheets(tmp_path, regs)
    scores = KINDS["scores"]
    with pytest.raises(ReadError) as err:
        reading.read_table(path, scores.alias_map, scores.required)
    message = str(err.value)
    assert "已查看工作簿中的全部 3 张工作表（填表说明、报名、补报）" in message
    assert "最接近的是「报名」第 1 行，缺少：实操成绩、理论成绩" in message


def test_a_sheet_name_for_a_csv_is_refused(tmp_path, regs):
    path = tmp_path / "报名.csv"
    demo.write_csv(regs, path)
    with pytest.raises(ReadError, match="CSV 文件只有一张表"):
        reading.read_table(path, REG.alias_map, REG.required, sheet="报名")


def test_the_fast_path_reads_the_chosen_sheet(tmp_path, regs, monkeypatch):
    # The first sheet holds a number (typed cells): the peek for them must look at the chosen sheet.
    path = write_workbook(tmp_path / "报名.xlsx", [("填表说明", INSTRUCTIONS), ("报名", _cells(regs, TITLE))])
    with zipfile.ZipFile(path) as zf:
        members = dict(reading._workbook_sheets(zf))
        assert reading._typed_cells_in(zf, members["填表说明"]) and not reading._typed_cells_in(zf, members["报名"])
    plain = reading._from_rows(*reading.read_rows_xlsx(path, "报名"), REG.alias_map, REG.required, None)

    def no_calamine(*args):
        raise AssertionError("a text sheet is read by fastexcel")

    monkeypatch.setattr(reading, "read_rows_xlsx", no_calamine)
    fast = reading.read_table(path, REG.alias_map, REG.required)
    assert fast.sheet == "报名" and fast.row_numbers == plain.row_numbers
    for f in plain.columns:
        assert fast.columns[f].tolist() == plain.columns[f].tolist(), f


def test_a_chosen_sheet_with_numbers_goes_through_calamine(tmp_path, regs):
    cells = _cells(regs.head(4))
    cells[2][list(regs.columns).index("准考证号")] = 232045200001.0
    path = write_workbook(tmp_path / "报名.xlsx", [("填表说明", INSTRUCTIONS), ("报名", cells)])
    assert reading._xlsx_text_table(path, "报名") is None
    raw = reading.read_table(path, REG.alias_map, REG.required)
    assert raw.sheet == "报名" and raw.columns["ticket_no"].iat[1] == "232045200001"


def test_a_single_sheet_workbook_is_not_peeked_at(tmp_path, regs, monkeypatch):
    path = tmp_path / "报名.xlsx"
    demo.write_xlsx(regs, path, TITLE)

    def no_peek(*args):
        raise AssertionError("one sheet: nothing to choose")

    monkeypatch.setattr(reading, "_peek_rows", no_peek)
    raw = reading.read_table(path, REG.alias_map, REG.required)
    assert (raw.sheet, raw.sheets_matching, raw.header_row) == ("Sheet1", ["Sheet1"], 2)


def test_a_single_sheet_without_a_required_column_is_no_match_but_still_read(empty_db, tmp_path, regs):
    path = tmp_path / "报名.xlsx"
    demo.write_xlsx(regs.drop(columns=["级别"]), path)
    raw = reading.read_table(path, REG.alias_map, REG.required)
    assert raw.sheet == "Sheet1" and raw.sheets_matching == []
    result = import_file(empty_db, "registrations", path)
    assert "缺少必需的列：级别" in result.errors[0].message


def _cli(db_path: Path, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXAMDASH_")}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run([sys.executable, "-m", "examdash", "--db", str(db_path), *map(str, args)], cwd=ROOT,
                          env=env, capture_output=True, text=True, encoding="utf-8", timeout=120)


def test_cli_sheet_option(empty_db_path, tmp_path, regs):
    path = _two_sheets(tmp_path, regs)
    first = _cli(empty_db_path, "import", "registrations", path, "--dry-run")
    assert first.returncode == 0, first.stderr
    assert f"警告 {path.name}:-:-: {SHEET_WARNING}" in first.stdout and "共 7 行" in first.stdout
    chosen = _cli(empty_db_path, "import", "registrations", path, "--sheet", "补报")
    assert chosen.returncode == 0, chosen.stderr
    assert "共 3 行，新增 3" in chosen.stdout and "多张表" not in chosen.stdout
    unknown = _cli(empty_db_path, "import", "registrations", path, "--sheet", "报名表")
    assert unknown.returncode == 1
    assert "工作簿中没有名为「报名表」的工作表（现有：填表说明、报名、补报）" in unknown.stderr


# ---------------------------------------------------------------- old .xls

def test_xls_with_instructions_numbers_and_a_footer_imports(empty_db, tmp_path, regs):
    cells = _cells(regs, TITLE)
    ticket = list(regs.columns).index("准考证号")
    for row in cells[2:]:
        row[ticket] = float(row[ticket])  # a number cell, as Excel keeps a ticket typed into a General cell
    cells += [[], ["合计", None, f"{len(regs)} 人"], ["制表人：张三"]]
    path = write_xls(tmp_path / "报名.xls", [("填表说明", INSTRUCTIONS), ("报名", cells)])
    result = import_file(empty_db, "registrations", path)
    assert result.ok, "\n".join(result.lines())
    assert result.added == len(regs) and result.sheet == "报名" and result.header_row == 2
    last = 2 + len(regs)
    find_line(result, last + 2, "-", "「合计 12 人」")
    find_line(result, last + 3, "-", "「制表人：张三」")
    stored = [r[0] for r in rows(empty_db, "select ticket_no from registrations where batch_code = '2023-2' order by 1")]
    assert stored == sorted(regs["准考证号"])


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "不是有效的 .xls 文件或文件已损坏"),
        (b"\xd0\xcf\x11\xe0 old excel", "不是 Excel 97-2003 工作簿"),
        ("考试批次\t身份证号\n2023-2\t1\n".encode("gb18030"), "不是 Excel 97-2003 工作簿"),
        ('<html><head><meta charset="utf-8"></head><body><table><tr><td>考试批次</td></tr></table>'.encode(), "网页"),
    ],
    ids=["damaged", "truncated", "text", "html"],
)
def test_a_damaged_or_fake_xls_is_refused_clearly(empty_db, tmp_path, content, fragment):
    path = tmp_path / "报名.xls"
    path.write_bytes(content)
    with pytest.raises(ReadError, match=fragment) as err:
        reading.read_table(path, REG.alias_map, REG.required)
    assert "另存为 .xlsx" in str(err.value)
    result = import_file(empty_db, "registrations", path)
    assert not result.ok and result.lines()[0].startswith("报名.xls:-:-: ")


def test_a_damaged_xls_after_a_good_start_is_refused_clearly(tmp_path, regs):
    good = _ole(_biff8([("报名", _cells(regs))]))
    path = tmp_path / "报名.xls"
    path.write_bytes(good[:1024])
    with pytest.raises(ReadError, match="不是有效的 .xls 文件或文件已损坏"):
        reading.read_table(path, REG.alias_map, REG.required)


def test_an_xlsx_named_xls_is_told_to_be_renamed(tmp_path, regs):
    path = tmp_path / "报名.xls"
    demo.write_xlsx(regs, path)
    with pytest.raises(ReadError, match="内容是 .xlsx 工作簿：请把扩展名改为 .xlsx"):
        reading.read_table(path, REG.alias_map, REG.required)


# ---------------------------------------------------------------- footer rows

def _footer_csv(regs: pd.DataFrame, *, ragged: bool) -> str:
    width = len(regs.columns)
    pad = (lambda *cells: ",".join(cells)) if ragged else (lambda *cells: ",".join([*cells, *[""] * (width - len(cells))]))
    return (f"{TITLE}{',' * (width - 1)}\r\n" + regs.to_csv(index=False, lineterminator="\r\n")
            + pad(f"合计：{len(regs)} 人") + "\r\n" + pad() + "\r\n" + pad("制表人：张三", "", "审核人：李四") + "\r\n"
            + pad("导出时间：2023-06-01 10:00:00") + "\r\n")


def _expect_footer(result, last_data_row: int, texts: list[tuple[int, str]]) -> None:
    for offset, text in texts:
        line = find_line(result, last_data_row + offset, "-", f"「{text}」")
        assert line.startswith("警告 ") and "不是数据行" in line and "已跳过" in line


FOOTERS = [(1, "合计：12 人"), (3, "制表人：张三 审核人：李四"), (4, "导出时间：2023-06-01 10:00:00")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("ragged", [False, True], ids=["padded", "ragged"])
def test_csv_footer_rows_are_skipped_and_reported(empty_db, tmp_path, regs, encoding, ragged):
    bad = regs.copy()
    bad.loc[4, "身份证号"] = wrong_check_char(bad.loc[4, "身份证号"])
    path = tmp_path / "报名.csv"
    path.write_bytes(_footer_csv(bad, ragged=ragged).encode(encoding))
    result = import_file(empty_db, "registrations", path, dry_run=True)
    assert result.rows_total == len(regs)
    assert [(e.row, e.column) for e in result.errors] == [(7, "身份证号")]  # title 1, header 2, data 3-14
    _expect_footer(result, 2 + len(regs), FOOTERS)
    path.write_bytes(_footer_csv(regs, ragged=ragged).encode(encoding))
    done = import_file(empty_db, "registrations", path)
    assert done.ok and done.added == len(regs), "\n".join(done.lines())
    assert not rows(empty_db, "select 1 from registrations where name like '%制表%' or id_no like '%合计%'")


@pytest.mark.parametrize("ragged", [False, True], ids=["padded", "ragged"])
def test_csv_footer_fast_path_reads_what_the_slow_path_reads(tmp_path, regs, ragged):
    data = _footer_csv(regs, ragged=ragged).encode("utf-8")
    fast = reading._read_csv_fast(data, REG.alias_map, REG.required)
    assert fast is not None, "a footer must not push the file off the fast path"
    text, encoding = reading.decode_csv(data)
    slow = reading._read_csv_lines(text, encoding, reading.split_lines(text), REG.alias_map, REG.required)
    assert fast.footer_rows == slow.footer_rows == [(14 + k, t) for k, t in FOOTERS]
    assert fast.row_numbers == slow.row_numbers == list(range(3, 15))
    for f in slow.columns:
        assert fast.columns[f].tolist() == slow.columns[f].tolist(), f


def test_csv_footer_with_blank_lines_in_the_data_keeps_row_numbers(tmp_path, regs):
    lines = regs.to_csv(index=False, lineterminator="\n").splitlines()
    text = "\n".join([lines[0], lines[1], "", lines[2], *lines[3:], "", "共 12 条", ""])
    path = tmp_path / "报名.csv"
    path.write_text(text, encoding="utf-8")
    raw = reading.read_table(path, REG.alias_map, REG.required)
    assert raw.row_numbers == [2, *range(4, 15)]
    assert raw.footer_rows == [(16, "共 12 条")]


def test_a_total_row_in_the_middle_is_not_a_footer(empty_db, tmp_path, regs):
    cells = _cells(regs)
    cells.insert(5, ["合计", "4"])
    path = write_workbook(tmp_path / "报名.xlsx", [("报名", cells)])
    result = import_file(empty_db, "registrations", path, dry_run=True)
    assert not result.ok and {e.row for e in result.errors} == {6}
    assert not any("不是数据行" in w.message for w in result.warnings)


@pytest.mark.parametrize("typed", [False, True], ids=["text (fastexcel)", "with numbers (calamine)"])
def test_xlsx_footer_rows_are_skipped_and_reported(empty_db, tmp_path, regs, typed):
    regs.loc[4, "身份证号"] = wrong_check_char(regs.loc[4, "身份证号"])
    cells = _cells(regs, TITLE) + [
        [f"合计：{len(regs)} 人", None, None, 12 if typed else "12"], [],
        [None, "制表人：张三", None, "审核人：李四"], ["导出时间：2023-06-01 10:00:00"], [], ["以下空白"]]
    path = write_workbook(tmp_path / "报名.xlsx", [("报名", cells)])
    assert reading._typed_cells_near_top(path) is typed
    result = import_file(empty_db, "registrations", path, dry_run=True)
    assert result.rows_total == len(regs)
    assert [(e.row, e.column) for e in result.errors] == [(7, "身份证号")]
    _expect_footer(result, 2 + len(regs), [(1, f"合计：{len(regs)} 人 12"), (3, "制表人：张三 审核人：李四"),
                                           (4, "导出时间：2023-06-01 10:00:00"), (6, "以下空白")])


@pytest.mark.parametrize(
    "text, footer",
    [("合计", True), ("合  计：35", True), ("总计", True), ("小计", True), ("共计 35 人", True), ("共 35 条", True),
     ("共35人", True), ("制表人：张三", True), ("制表：张三", True), ("审核人:李四", True), ("填表人", True),
     ("负责人：王五", True), ("导出时间：2023-06-01", True), ("打印时间 2023-06-01", True), ("以下空白", True),
     ("2023-2", False), ("张三", False), ("232045200001", False), ("共青团职业学院", False), ("合肥职业技术学院", False),
     ("审核通过", False), ("共 三 条", False)],
)
def test_footer_patterns(text, footer):
    assert bool(reading._FOOTER.match(text)) is footer


# ---------------------------------------------------------------- full-width characters

def test_full_width_codes_tickets_and_ids_are_made_half_width(empty_db, tmp_path, regs):
    full = str.maketrans({**{chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}})
    want = regs.copy()
    regs = regs.copy()
    for i in (1, 4, 9):
        regs.loc[i, "准考证号"] = regs.loc[i, "准考证号"].translate(full)
    regs.loc[2, "身份证号"] = regs.loc[2, "身份证号"][:10].translate(full) + regs.loc[2, "身份证号"][10:]
    want.loc[3, "身份证号"] = id_ending_in_x()
    regs.loc[3, "身份证号"] = want.loc[3, "身份证号"][:17] + "ｘ"
    regs.loc[6, "院校代码"] = regs.loc[6, "院校代码"].translate(full)
    regs.loc[7, "考点代码"] = "ｄｍ" + regs.loc[7, "考点代码"][2:].translate(full)
    regs.loc[8, "考试批次"] = "２０２３－２"
    path = tmp_path / "报名.csv"
    demo.write_csv(regs, path, "gb18030")
    result = import_file(empty_db, "registrations", path)
    assert result.ok and result.added == len(regs), "\n".join(result.lines())
    find_line(result, 3, "准考证号", f"「准考证号」列有 3 个单元格含全角字符，已转为半角（如第 3 行「{regs.loc[1, '准考证号']}」）")
    find_line(result, 4, "身份证号", "「身份证号」列有 2 个单元格含全角字符")
    find_line(result, 8, "院校代码", "「院校代码」列有 1 个单元格含全角字符")
    find_line(result, 9, "考点代码", "「考点代码」列有 1 个单元格含全角字符")
    assert not any("考试批次" == w.column for w in result.warnings)
    stored = rows(empty_db, "select id_no, ticket_no, school_code, site_code, batch_code from registrations "
                            "where batch_code = '2023-2' order by ticket_no")
    expected = sorted(zip(want["身份证号"], want["准考证号"], want["院校代码"], want["考点代码"], want["考试批次"]),
                      key=lambda r: r[1])
    assert stored == expected


def test_full_width_tickets_in_a_sign_in_sheet(fresh_db, tmp_path, demo_frames):
    att = demo_frames["attendance"]["2023-1"].head(5).copy().reset_index(drop=True)
    att.loc[0, "准考证号"] = att.loc[0, "准考证号"].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    path = tmp_path / "签到.xlsx"
    demo.write_xlsx(att, path)
    result = import_file(fresh_db, "attendance", path, batch="2023-1", dry_run=True)
    assert result.ok, "\n".join(result.lines())
    find_line(result, 2, "准考证号", "「准考证号」列有 1 个单元格含全角字符")


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_an_all_ascii_file_has_no_full_width_warning(empty_db, tmp_path, regs, suffix):
    path = tmp_path / f"报名{suffix}"
    (demo.write_xlsx if suffix == ".xlsx" else demo.write_csv)(regs, path)
    result = import_file(empty_db, "registrations", path, dry_run=True)
    assert result.ok and not any("全角" in w.message for w in result.warnings)


def test_ascii_columns_of_a_csv_take_no_full_width_pass(empty_db, tmp_path, regs, monkeypatch):
    # The CSV fast path's columns hold only their cells' bytes; an .xlsx column's buffer also holds
    # its header cell (byte_classes is a superset check), where the pass is one scan finding nothing.
    from examdash.importers import kinds, validate

    def no_pass(s):
        raise AssertionError("codes, IDs and batches of ASCII bytes only need no full-width pass")

    monkeypatch.setattr(kinds, "half_width", no_pass)
    monkeypatch.setattr(validate, "half_width", no_pass)
    path = tmp_path / "报名.csv"
    demo.write_csv(regs, path)
    assert import_file(empty_db, "registrations", path, dry_run=True).ok


def test_half_width_matches_nfkc_on_the_cells_it_changes():
    import unicodedata

    values = ["２３２０４５", "abc", None, "", "张三", "ｘ", "Ａ1", "1１", "“引号”", "\u3000", "０" * 40, "－"]
    chunked = pa.chunked_array([pa.array(values[:5], pa.large_string()), pa.array(values[5:], pa.large_string())])
    s = pd.Series(pd.array(chunked, dtype="str")).iloc[1:]  # an offset into the first chunk, too
    out, changed = half_width(s)
    expected = [unicodedata.normalize("NFKC", v) if isinstance(v, str) and any("\uff01" <= c <= "\uff5e" for c in v)
                else v for v in values[1:]]
    assert [None if pd.isna(v) else v for v in out] == expected
    assert changed.tolist() == [i for i, v in enumerate(values[1:]) if v and any("\uff01" <= c <= "\uff5e" for c in v)]
    assert out.index.tolist() == s.index.tolist()
    plain = pd.Series(["ｘ1", None, "DM"], dtype=object)
    assert half_width(plain)[0].tolist() == ["x1", None, "DM"]


def test_clean_code_reports_once_per_column_and_not_without_a_checker():
    s = pd.Series(["２３", "45", "６７", None], dtype="str")
    ck = Checker(REG, [5, 6, 7, 8], {"ticket_no": "准考证号码"})
    assert clean_code(s, ck, "ticket_no").tolist()[:3] == ["23", "45", "67"]
    assert [(i.row, i.column, i.severity) for i in ck.issues] == [(5, "准考证号码", "warning")]
    assert "「准考证号码」列有 2 个单元格含全角字符，已转为半角（如第 5 行「２３」）" == ck.issues[0].message
    assert clean_code(s).tolist()[0] == "２３"
    names = Checker(REG, [1, 2], {})
    clean_code(pd.Series(["23", "张三"], dtype="str"), names, "ticket_no")  # non-ASCII, but nothing full-width
    assert names.issues == []


# ---------------------------------------------------------------- the import page

class _Uploaded:
    """What st.file_uploader hands the page: a name and the bytes."""

    def __init__(self, path: Path):
        self.name, self._data = path.name, path.read_bytes()

    def getvalue(self) -> bytes:
        return self._data


def test_import_page_offers_the_matching_sheets_and_checks_the_chosen_one(app_env, tmp_path, regs, monkeypatch):
    import streamlit
    from streamlit.testing.v1 import AppTest

    from examdash import demo, web
    from examdash.domain import auth

    path = _two_sheets(tmp_path, regs)
    # AppTest cannot drive st.file_uploader: the page gets the file as if it had been uploaded.
    monkeypatch.setattr(streamlit, "file_uploader", lambda *args, **kwargs: [_Uploaded(path)])
    # The demo store takes no imports while its accounts have the published passwords (test_security).
    monkeypatch.setattr(demo, "published_accounts", lambda con: [])
    at = AppTest.from_file(str(ROOT / "app_pages/imports.py"), default_timeout=60)
    at.session_state[web.USER_KEY] = auth.User("admin", "系统管理员", "admin", None)
    at.session_state[web.SEEN_KEY] = time.monotonic()
    at.run()
    assert not at.exception
    at.selectbox(key="imports_kind").set_value("registrations").run()
    choice = at.selectbox(key="imports_sheet_0")
    assert choice.options == ["报名", "补报"] and choice.value == "报名"
    assert any("工作表「报名」" in c.value and "共 7 行" in c.value for c in at.caption)
    assert SHEET_WARNING in _table_with(at, "问题")["问题"].tolist()
    choice.set_value("补报").run()
    assert not at.exception
    assert any("工作表「补报」" in c.value and "共 3 行" in c.value for c in at.caption)
    assert _table_with(at, "身份证号")["身份证号"].tolist() == regs.tail(3)["身份证号"].tolist()
    issues = [d.value for d in at.dataframe if "问题" in d.value.columns]
    assert not any("多张表" in m for t in issues for m in t["问题"])


def _table_with(at, column: str) -> pd.DataFrame:
    """The first table on the page with that column (AppTest does not expose a dataframe's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)
