"""Reading export files: .xlsx via python-calamine, .csv in UTF-8 / UTF-8-BOM / GB18030.

Every cell comes back as text (or None): ID and ticket numbers must never become numbers.
The header row is found below any title rows by matching cells against the kind's aliases.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import python_calamine

HEADER_SCAN_ROWS = 30
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


def norm_header(text) -> str:
    """Full-width to half-width, no spaces of any width, lower case."""
    # Also used per cell on coded columns (级别, 考生类型…): a million calls on a handful of
    # distinct values, hence the cache (on the text, so 1, 1.0 and True stay distinct).
    return _norm_text(text if isinstance(text, str) else str(text or ""))


@functools.lru_cache(maxsize=1 << 16)
def _norm_text(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = _PARENS.sub("", s)
    return "".join(ch for ch in s if not ch.isspace()).lower().strip("*＊:：")


_PARENS = re.compile(r"\([^)]*\)")


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
    best = (-1, -1, {})
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        mapping: dict[int, str] = {}
        for j, cell in enumerate(row):
            field = aliases.get(norm_header(cell))
            if field and field not in mapping.values():
                mapping[j] = field
        score = len(set(mapping.values()) & required) * 100 + len(mapping)
        if score > best[1] and len(mapping) >= 2:
            best = (i, score, mapping)
    if best[0] < 0:
        raise ReadError("找不到表头行：前 30 行中没有一行包含这类文件应有的列名")
    return best[0], best[2]


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


def read_rows_xlsx(path: Path) -> tuple[list[list], int]:
    """All rows of the first sheet and the Excel row number of the first one."""
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except (python_calamine.CalamineError, zipfile.BadZipFile, ValueError, OSError, Exception) as exc:
        raise ReadError(f"不是有效的 .xlsx 文件或文件已损坏（{type(exc).__name__}: {exc}）") from exc
    return rows, 1


def read_table(path: Path, aliases: dict[str, str], required: set[str]) -> RawTable:
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
        rows, first = read_rows_xlsx(path)
        return _from_rows(rows, first, aliases, required, None)
    if suffix in (".csv", ".txt"):
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise ReadError("文件是 UTF-16 编码（Excel 的“Unicode 文本”）：请另存为“CSV UTF-8”或 GB18030 编码的 CSV")
        if _looks_binary(data):
            raise ReadError("扩展名是 .csv，但内容是二进制数据（不是文本表格）")
        return _read_csv(data, aliases, required)
    if suffix == ".xls":
        raise ReadError("不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 .csv")
    raise ReadError(f"不支持的文件类型 {suffix or '（无扩展名）'}：请上传 .xlsx 或 .csv")


def _from_rows(rows, first_row_no, aliases, required, encoding, line_of: list[int] | None = None) -> RawTable:
    """line_of, when given, is the line each row starts on (a quoted cell may span lines)."""
    hi, mapping = find_header(rows, aliases, required)
    header = rows[hi]
    headers = [cell_text(c) or "" for c in header]
    body = rows[hi + 1 :]
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
    if line_of is not None:
        row_numbers = [line_of[n - first_row_no] for n in row_numbers]
        header_row = line_of[hi]
    return RawTable(
        headers=headers,
        columns={f: _text_series(v) for f, v in columns.items()},
        row_numbers=row_numbers,
        header_row=header_row,
        unmapped=[h for j, h in enumerate(headers) if j not in mapping and h],
        encoding=encoding,
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


# Line breaks that str.splitlines() knows besides LF, CR and CRLF: ASCII ones (the same byte in
# UTF-8 and GB18030, never part of a multi-byte character there) and the others.
_ODD_BREAK_BYTES = (b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e")
_ODD_BREAK_CHARS = ("\x85", "\u2028", "\u2029")


def _line_starts(text: str, count: int) -> list[int]:
    """Offsets of the first `count` + 1 lines (fewer if the text has fewer); LF and CRLF breaks only."""
    starts = [0]
    for m in _BREAK.finditer(text):
        if m.end() >= len(text):
            break
        starts.append(m.end())
        if len(starts) > count:
            break
    return starts


_BREAK = re.compile(r"\r?\n")
_NON_SPACE = re.compile(r"\S")


def _read_csv(data: bytes, aliases, required) -> RawTable:
    """Reads what _read_csv_lines reads, without splitting the whole text into lines first.

    Splitting, re-joining and re-encoding a million lines takes seconds; here the header is found
    among the first lines and pyarrow gets the rest of the bytes as they are. That gives the same
    table as long as every line break is LF or CRLF and no line is blank or inside quotes: checked
    before (cheap byte scans) and after (pyarrow's row count); otherwise _read_csv_lines does it.
    """
    text, encoding = decode_csv(data)
    if any(b in data for b in _ODD_BREAK_BYTES) or any(ch in text for ch in _ODD_BREAK_CHARS):
        return _read_csv_lines(text, encoding, text.splitlines(), aliases, required)
    starts = _line_starts(text, HEADER_SCAN_ROWS)
    cut = starts[HEADER_SCAN_ROWS] if len(starts) > HEADER_SCAN_ROWS else len(text)
    if text.count("\r", 0, cut) != text.count("\r\n", 0, cut):
        return _read_csv_lines(text, encoding, text.splitlines(), aliases, required)
    head_rows = list(csv.reader(text[:cut].splitlines()))
    hi, mapping = find_header(head_rows, aliases, required)
    begin = starts[hi + 1] if hi + 1 < len(starts) else len(text)
    if not _NON_SPACE.search(text, begin):  # nothing below the header
        return _read_csv_lines(text, encoding, text.splitlines(), aliases, required)
    if encoding.startswith("UTF-8"):
        body, offset = data, (3 if encoding == "UTF-8 (BOM)" else 0) + len(text[:begin].encode("utf-8"))
    else:
        body, offset = text[begin:].encode("utf-8"), 0
    end = len(body)
    while end > offset and body[end - 1] in b"\r\n":
        end -= 1
    trailing_blank_lines = len(body[end:].splitlines()) - 1
    if body.count(b"\r", offset, end) != body.count(b"\r\n", offset, end) or trailing_blank_lines > 1:
        # A lone CR, or blank lines at the end that _read_csv_lines would see as "\n\n".
        return _read_csv_lines(text, encoding, text.splitlines(), aliases, required)
    table = _arrow_csv(pa.py_buffer(memoryview(body)[offset:end]), len(head_rows[hi]))
    # One row per LF: no blank line (pyarrow skips those) and no line break inside quotes.
    if isinstance(table, Exception) or table.num_rows != body.count(b"\n", offset, end) + 1:
        return _read_csv_lines(text, encoding, text.splitlines(), aliases, required)
    return _arrow_raw(table, head_rows[hi], hi, mapping, encoding)


def _arrow_csv(body, width: int):
    names = [f"c{j}" for j in range(width)]
    try:
        return pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=None),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=True, quoted_strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid as exc:
        return exc


def _read_csv_lines(text: str, encoding: str, lines: list[str], aliases, required) -> RawTable:
    head_rows = list(csv.reader(lines[:HEADER_SCAN_ROWS]))
    hi, mapping = find_header(head_rows, aliases, required)
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


def _arrow_raw(table, header, hi, mapping, encoding) -> RawTable:
    columns = {}
    for j, f in mapping.items():
        col = table.column(j)
        col = pc.utf8_trim_whitespace(col)
        col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        columns[f] = pd.Series(col.to_pandas(types_mapper=pd.ArrowDtype)).astype("str")
    n = table.num_rows
    start = hi + 2
    headers = [h.strip() for h in header]
    return RawTable(
        headers=headers,
        columns=columns,
        row_numbers=list(range(start, start + n)),
        header_row=hi + 1,
        unmapped=[h for j, h in enumerate(headers) if j not in mapping and h],
        encoding=encoding,
    )
