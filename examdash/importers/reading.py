"""Reading export files: .xlsx via fastexcel or python-calamine, old .xls via python-calamine, .csv in
UTF-8 / UTF-8-BOM / GB18030.

Every cell comes back as text (or None): ID and ticket numbers must never become numbers.
The header row is found below any title rows by matching cells against the kind's aliases; in a
workbook of several sheets (a 填表说明 sheet first, say) the sheet is the first whose header matches.
Summary and signature lines under the data (合计, 制表人：…, 导出时间：…) are set aside, not read as rows.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import html
import logging
import re
import struct
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import python_calamine

HEADER_SCAN_ROWS = 30
# fastexcel logs a warning for a column with no cells ("falling back to string"), which is what we
# want anyway; unsilenced it would reach the command line's stderr.
logging.getLogger("fastexcel").setLevel(logging.ERROR)
# Python's \s (every character str.isspace() accepts) spelled out: pandas hands
# .str.replace(SPACE_RUN, "", regex=True) to pyarrow, while r"\s+" makes it run re cell by cell.
SPACE_RUN = "[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"


class ReadError(ValueError):
    """The file as a whole cannot be read; the message names the file and says why, in Chinese."""


@dataclass
class RawTable:
    headers: list[str]  # as written in the file
    columns: dict[str, pd.Series]  # canonical field -> text (missing = NA), index 0..n-1
    row_numbers: list[int]  # row number as Excel (or a text editor) shows it, per data row
    header_row: int
    unmapped: list[str]  # file headers that map to no field
    encoding: str | None
    sheet: str | None = None  # the worksheet read (None for CSV)
    sheets_matching: list[str] = field(default_factory=list)  # worksheets whose header has every required field
    footer_rows: list[tuple[int, str]] = field(default_factory=list)  # (row number, text) of skipped 合计/制表人… rows


def norm_header(text) -> str:
    """Full-width to half-width, no spaces of any width, lower case ("" for text longer than any header)."""
    # Also used per cell on coded columns (级别, 考生类型…): a million calls on a handful of
    # distinct values, hence the cache (on the text, so 1, 1.0 and True stay distinct).
    text = text if isinstance(text, str) else str(text or "")
    if len(text) > MAX_HEADER_CHARS:
        return ""
    return _norm_text(text)


@functools.lru_cache(maxsize=1 << 16)
def _norm_text(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = _PARENS.sub("", s)
    return "".join(ch for ch in s if not ch.isspace()).lower().strip("*＊:：")


# [^()] and not [^)]: in "((((…" every "(" would otherwise scan to the end of the text (quadratic).
_PARENS = re.compile(r"\([^()]*\)")
# No alias is anywhere near this long: a longer cell is no header, and is not normalised (or cached).
MAX_HEADER_CHARS = 100


def cell_text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        s = v.strip()
        return s or None
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        if v != v:
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e16 else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    return str(v).strip() or None


def find_header(rows: list[list], aliases: dict[str, str], required: set[str]) -> tuple[int, dict[int, str]]:
    """Index of the header row among the first rows, and column index -> field.

    The header is the first row where the most required fields are recognised; a title row
    ("2023年第一次…成绩表") matches none.
    """
    hi, _, mapping = _best_header(rows, aliases, required)
    if hi < 0:
        raise ReadError("找不到表头行：前 30 行中没有一行包含这类文件应有的列名")
    return hi, mapping


def _best_header(rows: list[list], aliases: dict[str, str], required: set[str]) -> tuple[int, int, dict[int, str]]:
    """(index, score, column index -> field) of find_header's row; index -1 when there is none."""
    best = (-1, -1, {})
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        mapping: dict[int, str] = {}
        for j, cell in enumerate(row):
            f = aliases.get(norm_header(cell))
            if f and f not in mapping.values():
                mapping[j] = f
        score = len(set(mapping.values()) & required) * 100 + len(mapping)
        if score > best[1] and len(mapping) >= 2:
            best = (i, score, mapping)
    return best


def _choose_sheet(names: list[str], head_of, aliases, required, sheet: str | None) -> tuple[str, list[str] | None]:
    """The worksheet to read, and the worksheets whose header (found as find_header finds it in their
    first rows, head_of(name)) has every required field.

    The list is None for a workbook of one sheet: nothing is peeked at, the read itself tells.
    """
    if not names:
        raise ReadError("工作簿中没有工作表")
    if sheet is not None and sheet not in names:
        raise ReadError(f"工作簿中没有名为「{sheet}」的工作表（现有：{'、'.join(names)}）")
    if len(names) == 1:
        return names[0], None
    matching, closest = [], None
    for name in names:
        hi, score, mapping = _best_header(head_of(name), aliases, required)
        if hi < 0:
            continue
        if required <= set(mapping.values()):
            matching.append(name)
        elif closest is None or score > closest[1]:
            closest = (name, score, hi, mapping)
    if sheet is not None:
        return sheet, matching
    if matching:
        return matching[0], matching
    message = (f"找不到表头行：已查看工作簿中的全部 {len(names)} 张工作表（{'、'.join(names)}），"
               "前 30 行中都没有包含这类文件全部必需列的表头")
    if closest is not None:
        name, _, hi, mapping = closest
        # The first alias of a field is its label (Kind's alias table is built label first).
        labels = {f: a for a, f in reversed(aliases.items())}
        missing = "、".join(labels.get(f, f) for f in sorted(required - set(mapping.values())))
        message += f"；最接近的是「{name}」第 {hi + 1} 行，缺少：{missing}"
    raise ReadError(message)


# The first non-empty cell of a summary or signature line under the data ("合计", "制表人：张三",
# "导出时间：2023-06-01 10:00", "共 120 条"). Anchored (re.match) and without nested repeats: linear.
_FOOTER = re.compile(
    r"(?:合|总|小|共)\s*计"
    r"|(?:制表|审核|复核|填表|经办|负责)人"
    r"|(?:制表|审核|填表)\s*[:：]"
    r"|(?:导出|打印|制表|填表)(?:时间|日期)"
    r"|共\s*\d+\s*(?:条|人|名|行|项|笔|个)"
    r"|以下(?:空白|无数据)"
)
# How many of the last rows are looked at for such lines: a handful in any real export.
FOOTER_SCAN_ROWS = 50


def _footer_block(tail: list) -> tuple[int, list[tuple[int, str]]] | None:
    """Where the trailing block of footer and blank rows begins among the last rows of a table (each
    a sequence of cells), and its footer rows as (index in tail, the row's text); None when the rows
    end without a footer row (trailing blank rows alone are left to the caller's rules).
    """
    found = []
    cut = 0
    for i in range(len(tail) - 1, -1, -1):
        texts = [t for t in map(cell_text, tail[i]) if t]
        if not texts:
            continue
        if not _FOOTER.match(texts[0]):
            cut = i + 1
            break
        found.append((i, " ".join(texts)))
    if not found:
        return None
    return cut, found[::-1]


def decode_csv(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return str(memoryview(data)[3:], "utf-8", "strict"), "UTF-8 (BOM)"  # no copy of data[3:]
        except UnicodeDecodeError as exc:
            raise ReadError(f"文件以 UTF-8 的 BOM 开头，但第 {exc.start + 3} 字节处不是有效的 UTF-8："
                            "请用 Excel“另存为 CSV UTF-8”重新导出") from exc
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GB18030"
    except UnicodeDecodeError as exc:
        raise ReadError(f"无法识别文件编码（支持 UTF-8、带 BOM 的 UTF-8 与 GB18030/GBK），第 {exc.start} 字节处出错") from exc


def _looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:4096]


def read_rows_xlsx(path: Path, sheet: str | None = None) -> tuple[list[list], int]:
    """All rows of a sheet (the first unless named) and the Excel row number of the first one."""
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        ws = wb.get_sheet_by_index(0) if sheet is None else wb.get_sheet_by_name(sheet)
        rows = ws.to_python(skip_empty_area=False)
    except (python_calamine.CalamineError, zipfile.BadZipFile, ValueError, OSError, Exception) as exc:
        raise ReadError(f"不是有效的 .xlsx 文件或文件已损坏（{type(exc).__name__}: {exc}）") from exc
    return rows, 1


def _xlsx_text_table(path: Path, sheet: str | None = None) -> pa.RecordBatch | None:
    """A sheet (the first unless named) as Arrow text columns straight from Rust (fastexcel), from row 1
    on, when every cell is text or empty, as in the platform's exports; None otherwise. A column holding
    numbers, dates or booleans needs cell_text's rules (12 digits without ".0", a visible "e+17", 是/否),
    so such a sheet, and any file fastexcel cannot open, goes through read_rows_xlsx.
    """
    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(
            0 if sheet is None else sheet, header_row=None, skip_rows=0, dtype_coercion="strict",
            schema_sample_rows=None)
        if any(c.dtype != "string" for c in sheet.selected_columns):
            return None
        return sheet.to_arrow()
    except Exception:  # fastexcel.FastExcelError and whatever a damaged file makes the reader raise
        return None


# [^<>]: a tag ends before the next one begins, so no attempt scans past it (linear in the XML).
_CELL_TAG = re.compile(rb"<c\b([^<>]*)>")
_CELL_TYPE = re.compile(rb'\bt="([^"]*)"')
_TEXT_CELL_TYPES = (b"s", b"inlineStr", b"str")
_SHEET_PEEK_BYTES = 1 << 20


def _typed_cells_near_top(path: Path) -> bool:
    """Whether the first cells of the first sheet (its first megabyte of XML) hold a number, date,
    boolean or error: then fastexcel's text-only read would fail after parsing the whole sheet, so
    calamine reads it at once. False whenever the peek itself does not work out."""
    try:
        with zipfile.ZipFile(path) as zf:
            return _typed_cells_in(zf, _first_sheet_member(zf))
    except Exception:  # a damaged file: the readers give the message
        return False


def _typed_cells_in(zf: zipfile.ZipFile, member: str) -> bool:
    """_typed_cells_near_top of the sheet stored as `member`."""
    try:
        with zf.open(member) as f:
            head = f.read(_SHEET_PEEK_BYTES)
    except Exception:
        return False
    for m in _CELL_TAG.finditer(head):
        if m.group(1).endswith(b"/"):
            continue  # <c .../>: an empty cell
        kind = _CELL_TYPE.search(m.group(1))
        if kind is None or kind.group(1) not in _TEXT_CELL_TYPES:
            return True
    return False


def _first_sheet_member(zf: zipfile.ZipFile) -> str:
    """The zip member of the workbook's first sheet (workbook.xml's order, through its relationships)."""
    return _workbook_sheets(zf)[0][1]


_ATTR = r"""\b%s=(?:"([^"]*)"|'([^']*)')"""


def _attr(tag: bytes, name: str) -> str | None:
    m = re.search((_ATTR % name).encode(), tag)
    return None if m is None else html.unescape((m.group(1) if m.group(1) is not None else m.group(2)).decode("utf-8"))


def _workbook_sheets(zf: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(name, zip member) of every sheet, in workbook.xml's order (through its relationships)."""
    book = zf.read("xl/workbook.xml")
    targets = {}
    for rel in re.finditer(rb"<(?:\w+:)?Relationship\b[^<>]*>", zf.read("xl/_rels/workbook.xml.rels")):
        target = _attr(rel.group(0), "Target")
        targets[_attr(rel.group(0), "Id")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    sheets = []
    for tag in re.finditer(rb"<(?:\w+:)?sheet\b[^<>]*>", book):
        rid = _attr(tag.group(0), r"\w+:id")
        sheets.append((_attr(tag.group(0), "name"), targets[rid]))
    return sheets


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _column_index(ref: str) -> int:
    j = 0
    for ch in ref:
        if not ch.isalpha():
            break
        j = j * 26 + ord(ch.upper()) - 64
    return j - 1


def _run_text(el) -> str:
    """The text of an <is> or <si>: its <t>, or its rich-text runs' <t>, without phonetic runs (<rPh>)."""
    parts = []
    for child in el:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _peek_rows(zf: zipfile.ZipFile, member: str) -> list[list]:
    """The first HEADER_SCAN_ROWS rows of a sheet, as text, from its first megabyte of XML.

    To choose among sheets: fastexcel's n_rows and calamine's nrows still parse the whole sheet (a
    second or so per 100,000 rows), this stops after the rows it needs.
    """
    parser = ET.XMLPullParser(events=("end",))
    rows: list[list] = []
    shared: list[tuple[int, int]] = []  # (row, column) of shared-string cells, holding the index until resolved
    with zf.open(member) as f:
        read = 0
        while len(rows) < HEADER_SCAN_ROWS and read < _SHEET_PEEK_BYTES:
            chunk = f.read(1 << 16)
            if not chunk:
                break
            read += len(chunk)
            parser.feed(chunk)
            for _, el in parser.read_events():
                if _local(el.tag) != "row" or len(rows) >= HEADER_SCAN_ROWS:
                    continue
                number = int(el.get("r") or len(rows) + 1)
                rows.extend([] for _ in range(min(number - 1, HEADER_SCAN_ROWS) - len(rows)))
                row: list = []
                in_row: list[int] = []  # columns of this row's shared-string cells
                for c in el:
                    if _local(c.tag) != "c":
                        continue
                    ref = c.get("r")
                    j = _column_index(ref) if ref else len(row)
                    row.extend([None] * (j - len(row)))
                    kind = c.get("t")
                    if kind == "inlineStr":
                        value = next((_run_text(x) for x in c if _local(x.tag) == "is"), None)
                    else:
                        value = next((x.text for x in c if _local(x.tag) == "v"), None)
                        if kind == "s" and value is not None:
                            in_row.append(j)
                            value = int(value)
                    row[j:j + 1] = [value]
                el.clear()
                if len(rows) < HEADER_SCAN_ROWS:
                    shared.extend((len(rows), j) for j in in_row)
                    rows.append(row)
    if shared:
        last = max(rows[i][j] for i, j in shared)
        strings = _shared_strings(zf, last)
        if len(strings) <= last:  # a shared-strings part stored elsewhere: the caller asks calamine
            raise LookupError(f"shared string {last} not found")
        for i, j in shared:
            rows[i][j] = strings[rows[i][j]]
    return rows


def _shared_strings(zf: zipfile.ZipFile, last: int) -> list[str]:
    """The workbook's shared strings up to index `last` (the file is read no further)."""
    names = set(zf.namelist())
    member = next((m for m in ("xl/sharedStrings.xml", "xl/SharedStrings.xml") if m in names), None)
    out: list[str] = []
    if member is None:
        return out
    with zf.open(member) as f:
        for _, el in ET.iterparse(f, events=("end",)):
            if _local(el.tag) == "si":
                out.append(_run_text(el))
                el.clear()
                if len(out) > last:
                    break
    return out


def _calamine_head(path: Path, sheet: str) -> list[list]:
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(
            skip_empty_area=False, nrows=HEADER_SCAN_ROWS)
    except Exception:  # a damaged sheet matches nothing; the read of the chosen one gives the message
        return []


# What a workbook may unpack to. The platform's exports compress about 8x; a zip bomb (one 300 MB cell
# in a 300 KB file) about 1000x, and would need gigabytes to read.
MAX_MEMBER_BYTES = 1 << 30
MAX_UNPACKED_BYTES = 2 << 30
MAX_RATIO = 100
RATIO_FROM_BYTES = 1 << 20  # small parts (styles, a tiny sheet) may compress better


def check_unpacked_sizes(zf: zipfile.ZipFile) -> None:
    """Refuse a workbook whose parts would unpack too large, or too much larger than they are stored,
    before any of it is read (the sizes come from the zip's directory)."""
    total = 0
    for info in zf.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_BYTES or (info.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO):
            raise ReadError(f"工作簿中的「{info.filename[-60:]}」解压后有 {info.file_size / 1e6:,.0f} MB"
                            f"（压缩比 {ratio:,.0f} 倍），不像正常的导出文件，已拒绝读取（可能是压缩炸弹）")
    if total > MAX_UNPACKED_BYTES:
        raise ReadError(f"工作簿解压后共 {total / 1e9:.1f} GB，超过上限 {MAX_UNPACKED_BYTES / 1e9:.1f} GB，已拒绝读取")


# A part's local header: signature, versions, flags, method, time, date, CRC, sizes, name and extra lengths.
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_INFLATE_IN = 1 << 16  # compressed bytes read at a time
_INFLATE_OUT = 1 << 22  # most bytes unpacked (and dropped) at a time


def _size_text(n: int) -> str:
    if n < 1 << 10:
        return f"{n:,} 字节"
    return f"{n / 1024:,.1f} KB" if n < 1 << 20 else f"{n / (1 << 20):,.0f} MB"


def check_inflated_sizes(path: Path, zf: zipfile.ZipFile) -> None:
    """Unpack every part once, counting what it really unpacks to, and refuse a part that unpacks to
    more than the zip's directory declares (check_unpacked_sizes caps the declared sizes, so this caps
    what is really unpacked), or parts that overlap (one bomb stored once, listed many times).

    The readers do not all stop there: fastexcel (its own Rust zip reader, read first for text-only
    sheets) unpacks a part whatever its declared size, so a bomb whose headers declare a few KB was
    stopped only by the child's memory limit (3 GB, 8-45 s). Python's ZipExtFile and python-calamine
    stop at the declared size with an error. Like them, this goes by the central directory (sizes,
    method) and reads the data from the local header's offset. Nothing is kept: each chunk is
    counted and dropped, and the check stops at the first byte over. Parts packed other than stored
    or deflated are left to the readers, which cannot read them; a deflate stream that breaks off
    stops the count there (the readers stop too).
    """
    infos = sorted(zf.infolist(), key=lambda i: i.header_offset)
    with open(path, "rb") as f:
        for k, info in enumerate(infos):
            f.seek(info.header_offset)
            head = f.read(_LOCAL_HEADER.size)
            if len(head) < _LOCAL_HEADER.size or head[:4] != b"PK\x03\x04":
                continue  # a damaged part: no reader gets past its header
            *_, name_length, extra_length = _LOCAL_HEADER.unpack(head)
            start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
            end = start + info.compress_size
            if k + 1 < len(infos) and end > infos[k + 1].header_offset:
                raise ReadError(f"工作簿中的「{info.filename[-60:]}」与其他部件在压缩包中相互重叠，"
                                "文件可能已损坏或被构造为压缩炸弹，已拒绝读取")
            if info.compress_type == zipfile.ZIP_STORED:
                unpacked = info.compress_size
            elif info.compress_type == zipfile.ZIP_DEFLATED and not info.flag_bits & 1:
                f.seek(start)
                unpacked = _inflated_bytes(f, info.compress_size, info.file_size)
            else:
                continue
            if unpacked > info.file_size:
                raise ReadError(f"工作簿中的「{info.filename[-60:]}」解压后超过 {_size_text(info.file_size)}"
                                "（压缩包目录中登记的大小），文件可能已损坏或被构造为压缩炸弹，已拒绝读取")


def _inflated_bytes(f, compressed: int, limit: int) -> int:
    """How many bytes the raw deflate stream of `compressed` bytes at f's position unpacks to, counted
    up to the first one over `limit`."""
    d = zlib.decompressobj(-zlib.MAX_WBITS)
    out = 0
    try:
        while compressed > 0 and not d.eof:
            data = f.read(min(_INFLATE_IN, compressed))
            if not data:
                break
            compressed -= len(data)
            while not d.eof:
                most = min(_INFLATE_OUT, limit + 1 - out)
                chunk = d.decompress(data, most)
                out += len(chunk)
                if out > limit:
                    return out
                data = d.unconsumed_tail
                if not data and len(chunk) < most:
                    break  # all taken in, and no output held back
    except zlib.error:
        pass
    return out


def _read_xlsx(path: Path, aliases, required, sheet: str | None = None) -> RawTable:
    chosen, matching, typed = sheet, None, False
    try:
        zf = zipfile.ZipFile(path)
    except Exception:  # a damaged file: the readers give the message
        zf = None
    if zf is not None:
        try:
            check_unpacked_sizes(zf)
            check_inflated_sizes(path, zf)
        except ReadError:
            zf.close()
            raise
    if zf is not None:
        with zf:
            try:
                members = dict(_workbook_sheets(zf))
            except Exception:
                members = None
            if members is not None:
                def head_of(name):
                    try:
                        return _peek_rows(zf, members[name])
                    except Exception:  # XML this peek does not follow: calamine reads the sheet
                        return _calamine_head(path, name)

                chosen, matching = _choose_sheet(list(members), head_of, aliases, required, sheet)
                typed = _typed_cells_in(zf, members[chosen])
    table = None if typed else _xlsx_text_table(path, chosen)
    if table is None:
        rows, first = read_rows_xlsx(path, chosen)
        raw = _from_rows(rows, first, aliases, required, None)
    else:
        head = table.slice(0, HEADER_SCAN_ROWS)
        head_rows = [list(r) for r in zip(*(c.to_pylist() for c in head.columns))]
        hi, mapping = find_header(head_rows, aliases, required)
        raw = _arrow_raw(table.slice(hi + 1), head_rows[hi], hi, mapping, None, drop_empty=True)
    return _with_sheet(raw, chosen, matching, required)


def _with_sheet(raw: RawTable, sheet: str | None, matching: list[str] | None, required) -> RawTable:
    raw.sheet = sheet
    if matching is None:  # one sheet: it matches when its header has every required field
        matching = [sheet] if sheet is not None and required <= set(raw.columns) else []
    raw.sheets_matching = matching
    return raw


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _read_xls(path: Path, data: bytes, aliases, required, sheet: str | None) -> RawTable:
    """An Excel 97-2003 workbook, through calamine (all of it is in memory anyway: 65,536 rows at most)."""
    if not data.startswith(_OLE_MAGIC):
        head = data[:2048].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) or b"<table" in head:
            raise ReadError("扩展名是 .xls，但内容是网页或 XML 表格（不是真正的 Excel 文件）："
                            "请在 Excel 中打开后另存为 .xlsx 再导入")
        raise ReadError("扩展名是 .xls，但内容不是 Excel 97-2003 工作簿（可能已损坏或改了扩展名）："
                        "请在 Excel 中打开后另存为 .xlsx 再导入")
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names
        loaded = {}

        def sheet_of(name):
            if name not in loaded:
                loaded[name] = wb.get_sheet_by_name(name)
            return loaded[name]

        chosen, matching = _choose_sheet(
            names, lambda name: sheet_of(name).to_python(skip_empty_area=False, nrows=HEADER_SCAN_ROWS),
            aliases, required, sheet)
        rows = sheet_of(chosen).to_python(skip_empty_area=False)
    except ReadError:
        raise
    except Exception as exc:  # python_calamine.CalamineError and whatever a damaged file makes it raise
        raise ReadError(f"不是有效的 .xls 文件或文件已损坏（{type(exc).__name__}: {exc}）："
                        "请在 Excel 中打开后另存为 .xlsx 再导入") from exc
    return _with_sheet(_from_rows(rows, 1, aliases, required, None), chosen, matching, required)


def read_table(path: Path, aliases: dict[str, str], required: set[str], sheet: str | None = None) -> RawTable:
    """The file's table; `sheet` names the worksheet of a workbook (else the first whose header matches)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"无法读取文件：{exc}") from exc
    if not data or data.isspace():  # not data.strip(): that copies the whole file
        raise ReadError("文件是空的")
    if suffix in (".xlsx", ".xlsm"):
        if not data.startswith(b"PK"):
            raise ReadError("扩展名是 .xlsx，但内容不是 Excel 工作簿（可能是改了扩展名的其他文件）")
        return _read_xlsx(path, aliases, required, sheet)
    if suffix == ".xls":
        if data.startswith(b"PK"):  # the readers go by the extension
            raise ReadError("扩展名是 .xls，但内容是 .xlsx 工作簿：请把扩展名改为 .xlsx 后再导入")
        return _read_xls(path, data, aliases, required, sheet)
    if suffix in (".csv", ".txt"):
        if sheet is not None:
            raise ReadError(f"CSV 文件只有一张表，不能选择工作表「{sheet}」")
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise ReadError("文件是 UTF-16 编码（Excel 的“Unicode 文本”）：请另存为“CSV UTF-8”或 GB18030 编码的 CSV")
        if _looks_binary(data):
            raise ReadError("扩展名是 .csv，但内容是二进制数据（不是文本表格）")
        return _read_csv(data, aliases, required)
    raise ReadError(f"不支持的文件类型 {suffix or '（无扩展名）'}：请上传 .xlsx、.xls 或 .csv")


def _from_rows(rows, first_row_no, aliases, required, encoding, line_of: list[int] | None = None) -> RawTable:
    """line_of, when given, is the line each row starts on (a quoted cell may span lines)."""
    hi, mapping = find_header(rows, aliases, required)
    header = rows[hi]
    headers = [cell_text(c) or "" for c in header]
    body = rows[hi + 1 :]
    tail = max(0, len(body) - FOOTER_SCAN_ROWS)
    block = _footer_block(body[tail:])
    footer = []
    if block is not None:
        cut, found = block
        footer = [(tail + i, text) for i, text in found]
        body = body[: tail + cut]
    columns = _column_texts(body, mapping)  # "" or None for an empty cell
    keep = None
    if columns:
        lists = list(columns.values())
        for i, texts in enumerate(zip(*lists)):
            # A row whose mapped cells are all empty is dropped if every other cell is empty too.
            if not any(texts) and all(cell_text(c) is None for c in body[i]):
                if keep is None:
                    keep = list(range(i))
                continue
            if keep is not None:
                keep.append(i)
    else:
        keep = [i for i, row in enumerate(body) if not all(cell_text(c) is None for c in row)]
    if keep is not None:
        columns = {f: [v[i] for i in keep] for f, v in columns.items()}
    base = first_row_no + hi + 1
    row_numbers = [base + i for i in keep] if keep is not None else list(range(base, base + len(body)))
    header_row = first_row_no + hi
    footer_rows = [(base + i, text) for i, text in footer]
    if line_of is not None:
        row_numbers = [line_of[n - first_row_no] for n in row_numbers]
        header_row = line_of[hi]
        footer_rows = [(line_of[n - first_row_no], text) for n, text in footer_rows]
    return RawTable(
        headers=headers,
        columns={f: _text_series(v) for f, v in columns.items()},
        row_numbers=row_numbers,
        header_row=header_row,
        unmapped=[h for j, h in enumerate(headers) if j not in mapping and h],
        encoding=encoding,
        footer_rows=footer_rows,
    )


def _column_texts(body: list[list], mapping: dict[int, str]) -> dict[str, list]:
    """cell_text of the mapped columns of every row, column by column, except that an empty cell
    may come back as "" instead of None (_text_series makes both NA).

    Column by column and with C-level loops (zip, map) where the cells allow: a dict per row and a
    Python call per cell took about half a second per 100,000 rows.
    """
    width = max(mapping, default=-1) + 1
    if body and len(set(map(len, body))) == 1 and len(body[0]) >= width:
        transposed = list(zip(*body))
        cells_of = transposed.__getitem__
    else:  # ragged rows (CSV read by the csv module): short rows have no cell there
        def cells_of(j):
            return [row[j] if j < len(row) else None for row in body]
    out = {}
    for j, f in mapping.items():
        cells = cells_of(j)
        if set(map(type, cells)) <= {str}:  # text only, as in the platform's exports
            out[f] = list(map(str.strip, cells))
        else:
            out[f] = [(v.strip() or None) if type(v) is str else cell_text(v) for v in cells]
    return out


def _text_series(values: list) -> pd.Series:
    s = pd.Series(values, dtype="str")
    return s.mask(s == "")


_BREAK = re.compile(r"\r\n|\r|\n")
_LONE_CR = re.compile(rb"\r(?!\n)")
_NON_SPACE = re.compile(rb"[^ \t\r\n\x0b\x0c\x1c-\x1f]")
_BOM = b"\xef\xbb\xbf"
# Enough bytes for the header scan of any real export (30 lines); a file whose first lines are
# longer than this is read by the slow path.
_HEAD_BYTES = 1 << 20


def split_lines(text: str) -> list[str]:
    """Lines as the csv module, pyarrow and Excel see them: broken at LF, CRLF and CR only.

    Not str.splitlines(), which also breaks at \\x0b, \\x1c, U+2028 and others that are text inside
    a CSV cell; numbering by those would give other row numbers than the fast path.
    """
    lines = _BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _line_starts(text: str, count: int) -> list[int]:
    """Offsets of the first `count` + 1 lines (fewer if the text has fewer)."""
    starts = [0]
    for m in _BREAK.finditer(text):
        if m.end() >= len(text):
            break
        starts.append(m.end())
        if len(starts) > count:
            break
    return starts


def _read_csv(data: bytes, aliases, required) -> RawTable:
    """The fast path where it gives the same table as the slow one (_read_csv_lines), else the slow one."""
    try:
        return _read_csv_paths(data, aliases, required)
    except csv.Error as exc:  # the csv module's own limits (a cell over 131,072 characters) and format errors
        if "field larger than field limit" in str(exc):
            raise ReadError(f"有单元格超过 {csv.field_size_limit():,} 个字符，不像正常的导出文件，已拒绝读取") from exc
        raise ReadError(f"CSV 格式错误：{exc}") from exc


def _read_csv_paths(data: bytes, aliases, required) -> RawTable:
    fast = _read_csv_fast(data, aliases, required)
    if fast is not None:
        return fast
    text, encoding = decode_csv(data)
    if encoding == "GB18030":
        # pyarrow reads UTF-8 only: hand it the text re-encoded.
        fast = _read_csv_fast(text.encode("utf-8"), aliases, required, encoding)
        if fast is not None:
            return fast
    return _read_csv_lines(text, encoding, split_lines(text), aliases, required)


def _read_csv_fast(data: bytes, aliases, required, encoding: str | None = None) -> RawTable | None:
    """The table _read_csv_lines would read, without decoding or splitting the whole file; None
    where that cannot be guaranteed (the caller then takes the slow path).

    Only the first lines are decoded (to find the header) and pyarrow gets the rest of the bytes
    as they are, validating the UTF-8 as it parses. Its rows are numbered as lines, which holds
    when no line below the header is blank, no line break is a lone CR and no quoted cell spans
    lines: checked before (byte scans) and after (pyarrow's row count is the number of LFs + 1).
    """
    start = 3 if data.startswith(_BOM) else 0
    if encoding is None:
        encoding = "UTF-8 (BOM)" if start else "UTF-8"
    whole = len(data) - start <= _HEAD_BYTES
    try:
        # An incremental decoder: the cut may fall inside a character.
        head = codecs.getincrementaldecoder("utf-8")().decode(data[start: start + _HEAD_BYTES], final=whole)
    except UnicodeDecodeError:
        return None
    starts = _line_starts(head, HEADER_SCAN_ROWS)
    if len(starts) <= HEADER_SCAN_ROWS and not whole:
        return None
    cut = starts[HEADER_SCAN_ROWS] if len(starts) > HEADER_SCAN_ROWS else len(head)
    head_rows = list(csv.reader(split_lines(head[:cut])))
    hi, mapping = find_header(head_rows, aliases, required)
    if hi + 1 >= len(starts):
        return None  # nothing, or only blank lines, below the header: the slow path says so
    offset = start + len(head[: starts[hi + 1]].encode("utf-8"))
    end = len(data)
    while end > offset and data[end - 1] in b"\r\n":
        end -= 1
    first = _NON_SPACE.search(data, offset, end)
    if first is None or data[first.start()] >= 0x80:
        return None  # only (perhaps Unicode) spaces below the header
    if data.find(b"\r", offset, end) >= 0 and _LONE_CR.search(data, offset, end):
        return None
    # Footer lines are cut off before pyarrow sees the bytes: one with fewer cells than the header
    # ("共 120 条") would make it refuse the whole file.
    footer = _csv_tail_footer(data, offset, end)
    if footer is not None:
        end, after = footer
    table = _arrow_csv(pa.py_buffer(memoryview(data)[offset:end]), len(head_rows[hi]))
    # One row per LF: no blank line (pyarrow skips those) and no line break inside quotes.
    if isinstance(table, Exception) or table.num_rows != data.count(b"\n", offset, end) + 1:
        return None
    raw = _arrow_raw(table, head_rows[hi], hi, mapping, encoding)
    if footer is not None:  # the lines after the last data row, numbered on from it
        raw.footer_rows += [(hi + 2 + table.num_rows + k, text) for k, text in after]
    return raw


# Enough of a CSV's end for its last FOOTER_SCAN_ROWS lines in any real export.
_TAIL_BYTES = 1 << 16


def _csv_tail_footer(data: bytes, offset: int, end: int) -> tuple[int, list[tuple[int, str]]] | None:
    """(where the data rows end, the footer lines as (line after the last data row, 0 first, text))
    when the UTF-8 lines in data[offset:end] end with footer lines; None otherwise, or when the lines
    looked at hold no data row (the slow path then decides)."""
    start = max(offset, end - _TAIL_BYTES)
    parts = data[start:end].split(b"\n")
    positions = []
    pos = start
    for part in parts:
        positions.append(pos)
        pos += len(part) + 1
    if start > offset:  # the first part may be the end of a longer line
        parts, positions = parts[1:], positions[1:]
    parts, positions = parts[-FOOTER_SCAN_ROWS:], positions[-FOOTER_SCAN_ROWS:]
    block = _csv_footer([part.rstrip(b"\r").decode("utf-8", "replace") for part in parts])
    if block is None or block[0] == 0:
        return None
    cut, found = block
    cut_at = positions[cut] - 1  # the LF ending the last data line
    while cut_at > offset and data[cut_at - 1] in b"\r\n":
        cut_at -= 1
    return cut_at, [(i - cut, text) for i, text in found]


def _csv_footer(lines: list[str]) -> tuple[int, list[tuple[int, str]]] | None:
    """_footer_block of the last lines of a CSV, each line read as one row."""
    rows = []
    for line in lines:
        try:
            rows.append(next(csv.reader([line]), []))
        except csv.Error:
            rows.append([line])
    return _footer_block(rows)


def _arrow_csv(body, width: int):
    names = [f"c{j}" for j in range(width)]
    try:
        return pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=None),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names}, null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        return exc


def _read_csv_lines(text: str, encoding: str, lines: list[str], aliases, required) -> RawTable:
    head_rows = list(csv.reader(lines[:HEADER_SCAN_ROWS]))
    hi, mapping = find_header(head_rows, aliases, required)
    tail = max(hi + 1, len(lines) - FOOTER_SCAN_ROWS)
    block = _csv_footer(lines[tail:])
    if block is None:
        return _read_csv_body(encoding, lines, head_rows, hi, mapping, aliases, required)
    # Cut off as lines, as in the fast path: the rows below keep their line numbers.
    cut, found = block
    raw = _read_csv_body(encoding, lines[: tail + cut], head_rows, hi, mapping, aliases, required)
    raw.footer_rows += [(tail + i + 1, text) for i, text in found]
    return raw


def _read_csv_body(encoding: str, lines: list[str], head_rows, hi: int, mapping, aliases, required) -> RawTable:
    body = "\n".join(lines[hi + 1 :])
    # pyarrow reads a million rows in a fraction of a second, but skips blank lines (which would
    # shift row numbers) and cannot take a quoted newline's row count: fall back to csv for those.
    if "\n\n" in body or not body.strip():
        return _csv_module(head_rows[hi], hi, lines, aliases, required, encoding)
    header = head_rows[hi]
    table = _arrow_csv(pa.py_buffer(body.encode("utf-8")), len(header))
    if isinstance(table, Exception):
        exc = table
        try:
            return _csv_module(header, hi, lines, aliases, required, encoding)
        except ReadError:
            raise
        except Exception:
            raise ReadError(f"CSV 格式错误：{exc}") from exc
    if table.num_rows != len(lines) - hi - 1:  # a quoted cell spans lines: number rows by the csv module
        return _csv_module(header, hi, lines, aliases, required, encoding)
    return _arrow_raw(table, header, hi, mapping, encoding)


def _csv_module(header, hi: int, lines: list[str], aliases, required, encoding) -> RawTable:
    """The csv module's reading of the lines below the header, each row numbered by the line it starts on."""
    reader = csv.reader(lines[hi + 1 :])
    rows, line_of, done = [header], [hi + 1], 0
    for row in reader:
        rows.append(row)
        line_of.append(hi + 2 + done)
        done = reader.line_num
    return _from_rows(rows, 1, aliases, required, encoding, line_of=line_of)


# Bytes that can begin, and bytes that can end, a value with white space at either end (what
# str.strip() and pyarrow's utf8_trim_whitespace remove): ASCII white space, and the first / last
# byte of U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 in UTF-8.
_WS_FIRST = np.zeros(256, dtype=bool)
_WS_FIRST[[*range(9, 14), *range(28, 33), 0xC2, 0xE1, 0xE2, 0xE3]] = True
_WS_LAST = np.zeros(256, dtype=bool)
_WS_LAST[[*range(9, 14), *range(28, 33), *range(0x80, 0x8B), 0x9F, 0xA0, 0xA8, 0xA9, 0xAF]] = True


def _strip(col) -> pa.ChunkedArray:
    """Cells as text without surrounding white space, empty ones as null.

    Trimming a million cells copies the column; the first and last byte of each value show the few
    that might need it, and only if one of those really changes is the column trimmed.
    """
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    return pa.chunked_array([_strip_chunk(c) for c in chunks], pa.large_string())


def _strip_chunk(arr: pa.Array) -> pa.Array:
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.large_string())
    if arr.type != pa.large_string():  # what pandas' str dtype holds: no cast when making the Series
        arr = arr.cast(pa.large_string())
    if not len(arr):
        return arr
    offsets, data = _string_buffers(arr)
    valid = np.diff(offsets) > 0
    if arr.null_count:
        valid &= arr.is_valid().to_numpy(zero_copy_only=False)
    suspect = np.zeros(len(arr), dtype=bool)
    suspect[valid] = _WS_FIRST[data[offsets[:-1][valid]]] | _WS_LAST[data[offsets[1:][valid] - 1]]
    if suspect.any():
        sub = arr.take(pa.array(np.flatnonzero(suspect)))
        if not pc.all(pc.equal(pc.utf8_trim_whitespace(sub), sub)).as_py():
            arr = pc.utf8_trim_whitespace(arr)
            offsets, _ = _string_buffers(arr)
            valid = np.diff(offsets) > 0
            if arr.null_count:
                valid &= arr.is_valid().to_numpy(zero_copy_only=False)
    if arr.null_count == len(arr) - int(valid.sum()):
        return arr  # no empty text to turn into null
    # The same offsets and bytes with a validity bitmap that also hides the empty cells: no copy.
    bits = np.concatenate([np.zeros(arr.offset, dtype=bool), valid]) if arr.offset else valid
    validity = pa.py_buffer(np.packbits(bits, bitorder="little"))
    return pa.Array.from_buffers(pa.large_string(), len(arr), [validity, *arr.buffers()[1:]], offset=arr.offset)


def _string_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The value offsets (len + 1) and the UTF-8 bytes of a large_string array, as numpy views."""
    _, off, data = arr.buffers()
    offsets = np.frombuffer(off, dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    return offsets, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(1, dtype=np.uint8))


def _arrow_raw(table, header, hi, mapping, encoding, drop_empty: bool = False) -> RawTable:
    """The RawTable of an Arrow table of text cells whose first row is the line after the header.

    drop_empty drops the rows without any text in any cell, as _from_rows does (a spreadsheet's
    blank rows); row numbers stay those of the sheet.
    """
    start = hi + 2
    tail = max(0, table.num_rows - FOOTER_SCAN_ROWS)
    block = _footer_block(list(zip(*(c.to_pylist() for c in table.slice(tail).columns))))
    footer_rows = []
    if block is not None:
        cut, found = block
        footer_rows = [(start + tail + i, text) for i, text in found]
        table = table.slice(0, tail + cut)
    n = table.num_rows
    cols = {f: _strip(table.column(j)) for j, f in mapping.items()}
    row_numbers = list(range(start, start + n))
    if drop_empty and cols:
        empty = np.logical_and.reduce([c.is_null().to_numpy(zero_copy_only=False) for c in cols.values()])
        for j in range(table.num_columns):
            if j not in mapping and empty.any():
                empty &= _strip(table.column(j)).is_null().to_numpy(zero_copy_only=False)
        if empty.any():
            keep = np.flatnonzero(~empty)
            cols = {f: c.take(pa.array(keep)) for f, c in cols.items()}
            row_numbers = (start + keep).tolist()
    headers = [cell_text(h) or "" for h in header]
    return RawTable(
        headers=headers,
        columns={f: pd.Series(pd.array(c, dtype="str")) for f, c in cols.items()},
        row_numbers=row_numbers,
        header_row=hi + 1,
        unmapped=[h for j, h in enumerate(headers) if j not in mapping and h],
        encoding=encoding,
        footer_rows=footer_rows,
    )
