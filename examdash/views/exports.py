"""Downloads: .xlsx and .csv (UTF-8 with BOM so Excel shows Chinese), formula-safe, named by filters."""

from __future__ import annotations

import io
import re

import pandas as pd

from examdash.domain.ids import mask_id, mask_name

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
MIME = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv",
        "zip": "application/zip"}


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that Excel would run as a formula (= + - @) with an apostrophe.

    A plain loop over each text column's values: the cells are Python objects either way, and pandas'
    string methods cost more per call than they save on the many small frames of a statement."""
    out = df
    for col in df.columns:
        s = df[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        values = s.tolist()
        # Numbers (also -5 kept as text, or a number in an object column) are not formulas.
        hits = [i for i, v in enumerate(values)
                if isinstance(v, str) and v[:1] in DANGEROUS and not NUMBER.fullmatch(v)]
        if hits:
            for i in hits:
                values[i] = "'" + values[i]
            if out is df:
                out = df.copy()
            out[col] = pd.Series(values, index=s.index, dtype=s.dtype, name=col)
    return out


def mask_people(df: pd.DataFrame, name_col: str = "姓名", id_col: str = "身份证号") -> pd.DataFrame:
    """Apply the one masking rule to a frame's name and ID columns."""
    out = df.copy()
    if name_col in out:
        out[name_col] = out[name_col].map(mask_name)
    if id_col in out:
        out[id_col] = out[id_col].map(mask_id)
    return out


def file_name(prefix: str, describe: str, ext: str) -> str:
    """成绩表_2023-1_初级_广东省.xlsx: the filters in the name, nothing a file system rejects."""
    safe = re.sub(r'[\\/:*?"<>|\s]+', "-", f"{prefix}_{describe}").strip("-_")
    return f"{safe}.{ext}"


def to_csv(df: pd.DataFrame) -> bytes:
    return neutralise(df).to_csv(index=False).encode("utf-8-sig")


def table_files(table: pd.DataFrame, prefix: str, describe: str, sheet: str = "数据") -> dict:
    """ext -> (build, file name, MIME type) of a table as .xlsx and .csv; build() makes the bytes when
    called (the download is built on click, not on every page run)."""
    def build(ext: str):
        return (lambda: to_xlsx(table, sheet)) if ext == "xlsx" else (lambda: to_csv(table))

    return {ext: (build(ext), file_name(prefix, describe, ext), MIME[ext]) for ext in ("xlsx", "csv")}


def table_xlsx(table: pd.DataFrame, sheet_name: str, progress=None) -> bytes:
    """One table as an .xlsx, reporting progress by column (what a child process builds, see offload.py)."""
    return to_xlsx(table, sheet_name, progress)


def to_xlsx(sheets: dict[str, pd.DataFrame] | pd.DataFrame, sheet_name: str = "数据", progress=None) -> bytes:
    """One or more frames as sheets; every text cell written as text, never as a formula.
    `progress(fraction, text)` after each column of a single table."""
    import xlsxwriter

    if isinstance(sheets, pd.DataFrame):
        sheets = {sheet_name: sheets}
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False, "nan_inf_to_errors": True})
    bold = wb.add_format({"bold": True, "bg_color": "#EEF2F7"})
    for name, df in sheets.items():
        ws = wb.add_worksheet(name[:31])
        df = neutralise(df)
        for j, col in enumerate(df.columns):
            ws.write_string(0, j, str(col), bold)
            width = max([len(str(col)) * 2] + [len(str(v)) for v in df[col].head(200)] + [6])
            ws.set_column(j, j, min(width + 2, 40))
            values = df[col].tolist()
            for i, v in enumerate(values, start=1):
                if v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT:
                    continue
                if isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                elif isinstance(v, (int, float)):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
            if progress and len(sheets) == 1:
                progress((j + 1) / (len(df.columns) + 1), f"已写入 {j + 1} / {len(df.columns)} 列（{len(df):,} 行）")
        ws.freeze_panes(1, 0)
    wb.close()
    return buf.getvalue()
