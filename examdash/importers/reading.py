"""Reading export files: .xlsx via python-calamine, .csv in UTF-8 / UTF-8-BOM / GB18030.

Every cell comes back as text (or None): ID and ticket numbers must never become numbers.
The header row is found below any title rows by matching cells against the kind's aliases.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import logging
import re
import unicodedata
import zipfile
from dataclasses import dataclass
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


def _xlsx_text_table(path: Path) -> pa.RecordBatch | None:
    """The first sheet as Arrow text columns straight from Rust (fastexcel), from row 1 on, when every
    cell is text or empty, as in the platform's exports; None otherwise. A column holding numbers,
    dates or booleans needs cell_text's rules (12 digits without ".0", a visible "e+17", 是/否), so
    such a sheet, and any file fastexcel cannot open, goes through read_rows_xlsx.
    """
    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(
            0, header_row=None, skip_rows=0, dtype_coercion="strict", schema_sample_rows=None)
        if any(c.dtype != "string" for c in sheet.selected_columns):
            return None
        return sheet.to_arrow()
    except Exception:  # fastexcel.FastExcelError and whatever a damaged file makes the reader raise
        return None


_CELL_TAG = re.compile(rb"<c\b([^>]*?)(/?)>")
_CELL_TYPE = re.compile(rb'\bt="([^"]*)"')
_TEXT_CELL_TYPES = (b"s", b"inlineStr", b"str")
_SHEET_PEEK_BYTES = 1 << 20


def _typed_cells_near_top(path: Path) -> bool:
    """Whether the first cells of the first sheet (its first megabyte of XML) hold a number, date,
    boolean or error: then fastexcel's text-only read would fail after parsing the whole sheet, so
    calamine reads it at once. False whenever the peek itself does not work out."""
    try:
        with zipfile.ZipFile(path) as zf:
            with zf.open(_first_sheet_member(zf)) as f:
                head = f.read(_SHEET_PEEK_BYTES)
    except Exception:  # a damaged file: the readers give the message
        return False
    for m in _CELL_TAG.finditer(head):
        if m.group(2):
            continue  # <c .../>: an empty cell
        kind = _CELL_TYPE.search(m.group(1))
        if kind is None or kind.group(1) not in _TEXT_CELL_TYPES:
            return True
    return False


def _first_sheet_member(zf: zipfile.ZipFile) -> str:
    """The zip member of the workbook's first sheet (workbook.xml's order, through its relationships)."""
    book = zf.read("xl/workbook.xml")
    rid = re.search(rb'<sheet\b[^>]*?\br:id="([^"]+)"', book).group(1)
    rels = zf.read("xl/_rels/workbook.xml.rels")
    for rel in re.finditer(rb"<Relationship\b[^>]*>", rels):
        if re.search(rb'\bId="' + re.escape(rid) + rb'"', rel.group(0)):
            target = re.search(rb'\bTarget="([^"]+)"', rel.group(0)).group(1).decode()
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    raise KeyError(rid)


def _read_xlsx(path: Path, aliases, required) -> RawTable:
    table = None if _typed_cells_near_top(path) else _xlsx_text_table(path)
    if table is None:
        rows, first = read_rows_xlsx(path)
        return _from_rows(rows, first, aliases, required, None)
    head = table.slice(0, HEADER_SCAN_ROWS)
    head_rows = [list(r) for r in zip(*(c.to_pylist() for c in head.columns))]
    hi, mapping = find_header(head_rows, aliases, required)
    return _arrow_raw(table.slice(hi + 1), head_rows[hi], hi, mapping, None, drop_empty=True)


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
        return _read_xlsx(path, aliases, required)
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
    table = _arrow_csv(pa.py_buffer(memoryview(data)[offset:end]), len(head_rows[hi]))
    # One row per LF: no blank line (pyarrow skips those) and no line break inside quotes.
    if isinstance(table, Exception) or table.num_rows != data.count(b"\n", offset, end) + 1:
        return None
    return _arrow_raw(table, head_rows[hi], hi, mapping, encoding)


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
    n = table.num_rows
    cols = {f: _strip(table.column(j)) for j, f in mapping.items()}
    start = hi + 2
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
    )
