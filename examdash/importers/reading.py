"""Reading export files: .xlsx via python-calamine, .csv in UTF-8 / UTF-8-BOM / GB18030.

Every cell comes back as text (or None): ID and ticket numbers must never become numbers.
The header row is found below any title rows by matching cells against the kind's aliases.
"""

from __future__ import annotations

import csv
import datetime as dt
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
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = re.sub(r"\([^)]*\)", "", s)
    return "".join(ch for ch in s if not ch.isspace()).lower().strip("*＊:：")


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
        return data[3:].decode("utf-8", errors="strict"), "UTF-8 (BOM)"
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
    if not data.strip():
        raise ReadError("文件是空的")
    if suffix in (".xlsx", ".xlsm"):
        if not data.startswith(b"PK"):
            raise ReadError("扩展名是 .xlsx，但内容不是 Excel 工作簿（可能是改了扩展名的其他文件）")
        rows, first = read_rows_xlsx(path)
        return _from_rows(rows, first, aliases, required, None)
    if suffix in (".csv", ".txt"):
        if _looks_binary(data):
            raise ReadError("扩展名是 .csv，但内容是二进制数据（不是文本表格）")
        return _read_csv(data, aliases, required)
    if suffix == ".xls":
        raise ReadError("不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 .csv")
    raise ReadError(f"不支持的文件类型 {suffix or '（无扩展名）'}：请上传 .xlsx 或 .csv")


def _from_rows(rows, first_row_no, aliases, required, encoding) -> RawTable:
    hi, mapping = find_header(rows, aliases, required)
    header = rows[hi]
    headers = [cell_text(c) or "" for c in header]
    columns: dict[str, list] = {f: [] for f in mapping.values()}
    row_numbers = []
    for k, row in enumerate(rows[hi + 1 :], start=hi + 1):
        texts = {f: cell_text(row[j]) if j < len(row) else None for j, f in mapping.items()}
        if all(v is None for v in texts.values()) and all(cell_text(c) is None for c in row):
            continue
        for f, v in texts.items():
            columns[f].append(v)
        row_numbers.append(first_row_no + k)
    return RawTable(
        headers=headers,
        columns={f: pd.Series(v, dtype="str") for f, v in columns.items()},
        row_numbers=row_numbers,
        header_row=first_row_no + hi,
        unmapped=[h for j, h in enumerate(headers) if j not in mapping and h],
        encoding=encoding,
    )


def _read_csv(data: bytes, aliases, required) -> RawTable:
    text, encoding = decode_csv(data)
    lines = text.splitlines()
    head_rows = list(csv.reader(lines[:HEADER_SCAN_ROWS]))
    hi, mapping = find_header(head_rows, aliases, required)
    body = "\n".join(lines[hi + 1 :])
    # pyarrow reads a million rows in a fraction of a second, but skips blank lines (which would
    # shift row numbers) and cannot take a quoted newline's row count: fall back to csv for those.
    if "\n\n" in body or not body.strip():
        rows = [head_rows[hi]] + list(csv.reader(lines[hi + 1 :]))
        raw = _from_rows(rows, hi + 1, aliases, required, encoding)
        return raw
    header = head_rows[hi]
    names = [f"c{j}" for j in range(len(header))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(body.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=None),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=True, quoted_strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid as exc:
        rows = [header] + list(csv.reader(lines[hi + 1 :]))
        try:
            return _from_rows(rows, hi + 1, aliases, required, encoding)
        except ReadError:
            raise
        except Exception:
            raise ReadError(f"CSV 格式错误：{exc}") from exc
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
