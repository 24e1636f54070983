"""The fast paths of the importer give exactly what the plain ones give.

Large files take shortcuts: CSV bytes handed to pyarrow without decoding the whole file, .xlsx sheets
of text read straight into Arrow by fastexcel, white space trimmed only where a value's first or
last byte says it may be needed, key repeats found by DuckDB's hashes. Each test here builds a file
or a frame that could trip a shortcut and compares the result with the plain path's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import write_frame, write_xlsx_cells

from examdash.importers import reading
from examdash.importers.kinds import (
    KINDS,
    byte_classes,
    clean_code,
    first_duplicates,
    repeated_keys,
)
from examdash.importers.reading import SPACE_RUN

REG = KINDS["registrations"]
TRICKY = [
    " 张三 ", "\u3000李四\u3000", "王\u3000五", "   ", "\u3000", "NA", "null", "N/A", "nan", "#N/A",
    "阿卜杜·热合曼", "赵\u00a0六", "“引号”", "x\u2028y", "a\x0bb", "末尾\t", "\u2003首", "",
]


def _plain_csv(path):
    """What the slow path (split lines, then pyarrow or the csv module) reads."""
    text, encoding = reading.decode_csv(path.read_bytes())
    return reading._read_csv_lines(text, encoding, reading.split_lines(text), REG.alias_map, REG.required)


def _plain_xlsx(path):
    rows, first = reading.read_rows_xlsx(path)
    return reading._from_rows(rows, first, REG.alias_map, REG.required, None)


def _same(a, b):
    assert a.header_row == b.header_row
    assert a.row_numbers == b.row_numbers
    # fastexcel leaves out empty columns left of the sheet's data: the headers that name something agree.
    assert [h for h in a.headers if h] == [h for h in b.headers if h]
    assert a.unmapped == b.unmapped and a.encoding == b.encoding
    assert a.columns.keys() == b.columns.keys()
    for f in a.columns:
        left = [None if pd.isna(v) else v for v in a.columns[f]]
        right = [None if pd.isna(v) else v for v in b.columns[f]]
        assert left == right, f
        assert a.columns[f].dtype == b.columns[f].dtype, f


@pytest.fixture(scope="module")
def regs(demo_frames):
    frame = demo_frames["registrations"]["2023-2"].head(len(TRICKY)).copy().reset_index(drop=True)
    frame["姓名"] = TRICKY
    frame["备注"] = list(reversed(TRICKY))  # an unmapped column with the same values
    return frame


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("title", [None, "2023年第二次数字营销技术应用全国统考 报名信息表"])
def test_csv_fast_path_reads_what_the_slow_path_reads(tmp_path, regs, encoding, title):
    frame = regs if encoding != "gb18030" else regs.assign(姓名=[v.replace("\u2028", "") for v in regs["姓名"]],
                                                             备注="备注")
    path = write_frame(frame, tmp_path / "报名.csv", title=title, encoding=encoding)
    fast = reading._read_csv_fast(path.read_bytes(), REG.alias_map, REG.required) if encoding != "gb18030" else None
    if fast is not None:
        _same(fast, _plain_csv(path))
    _same(reading.read_table(path, REG.alias_map, REG.required), _plain_csv(path))
    raw = reading.read_table(path, REG.alias_map, REG.required)
    expected = [reading.cell_text(v) for v in frame["姓名"]]
    assert [None if pd.isna(v) else v for v in raw.columns["name"]] == expected


def test_csv_fast_path_is_taken_for_a_clean_export(tmp_path, regs):
    path = write_frame(regs.head(5).assign(姓名="张三", 备注="x"), tmp_path / "报名.csv")
    assert reading._read_csv_fast(path.read_bytes(), REG.alias_map, REG.required) is not None


@pytest.mark.parametrize("body_break", ["\r", "\r\r\n", "\n\n", "\r\n\r\n"])
def test_csv_odd_line_breaks_leave_the_fast_path(tmp_path, regs, body_break):
    lines = regs.head(4).assign(姓名="张三", 备注="x").to_csv(index=False, lineterminator="\r\n").splitlines()
    text = "\r\n".join(lines[:2]) + body_break + "\r\n".join(lines[2:]) + "\r\n"
    path = tmp_path / "报名.csv"
    path.write_bytes(text.encode("utf-8"))
    assert reading._read_csv_fast(path.read_bytes(), REG.alias_map, REG.required) is None
    _same(reading.read_table(path, REG.alias_map, REG.required), _plain_csv(path))


def test_csv_cell_text_that_splitlines_would_break_keeps_row_numbers(tmp_path, regs):
    frame = regs.head(4).assign(姓名=["张\u2028三", "李\x1c四", "王\x0b五", "赵\u0085六"], 备注="x")
    path = write_frame(frame, tmp_path / "报名.csv", encoding="utf-8")
    raw = reading.read_table(path, REG.alias_map, REG.required)
    assert raw.row_numbers == [2, 3, 4, 5]
    _same(raw, _plain_csv(path))


def test_csv_texts_like_na_and_null_stay_text(tmp_path, regs):
    frame = regs.head(5).assign(姓名=["NA", "null", "N/A", "nan", "NULL"], 备注="x")
    raw = reading.read_table(write_frame(frame, tmp_path / "报名.csv"), REG.alias_map, REG.required)
    assert raw.columns["name"].tolist() == ["NA", "null", "N/A", "nan", "NULL"]


def test_csv_with_a_header_scan_longer_than_the_decoded_head(tmp_path, regs, monkeypatch):
    monkeypatch.setattr(reading, "_HEAD_BYTES", 64)
    path = write_frame(regs.head(40).assign(备注="x"), tmp_path / "报名.csv", title="标题")
    assert reading._read_csv_fast(path.read_bytes(), REG.alias_map, REG.required) is None
    _same(reading.read_table(path, REG.alias_map, REG.required), _plain_csv(path))


def test_csv_invalid_utf8_after_the_head_falls_back_to_gb18030(tmp_path, regs, monkeypatch):
    monkeypatch.setattr(reading, "_HEAD_BYTES", 256)
    frame = regs.head(8).assign(备注="x")
    path = tmp_path / "报名.csv"
    header_and_first = frame.head(2).to_csv(index=False, lineterminator="\r\n").encode("utf-8")
    rest = frame.iloc[2:].assign(姓名="刘䶮").to_csv(index=False, header=False, lineterminator="\r\n")
    # ASCII-only head bytes are valid UTF-8: only pyarrow finds that the rest is not.
    ascii_head = header_and_first.decode("utf-8").encode("gb18030")
    path.write_bytes(ascii_head + rest.encode("gb18030"))
    raw = reading.read_table(path, REG.alias_map, REG.required)
    assert raw.encoding == "GB18030"
    assert raw.columns["name"].tolist()[2:] == ["刘䶮"] * 6


def _sheet(regs, *, lead_blank_col=False):
    header = list(regs.columns)
    body = regs.values.tolist()
    cells = [["2023年第二次全国统考 报名信息表"], [], ["导出时间：2023-06-01"], header, *body[:3], [], [None] * len(header),
             [" ", "\u3000"], *body[3:]]
    if lead_blank_col:
        cells = [[None, *r] for r in cells]
    return cells


@pytest.mark.parametrize("lead_blank_col", [False, True])
def test_xlsx_text_sheet_is_read_by_fastexcel_as_calamine_reads_it(tmp_path, regs, lead_blank_col):
    path = write_xlsx_cells(_sheet(regs, lead_blank_col=lead_blank_col), tmp_path / "报名.xlsx")
    assert not reading._typed_cells_near_top(path)
    assert reading._xlsx_text_table(path) is not None
    fast = reading.read_table(path, REG.alias_map, REG.required)
    _same(fast, _plain_xlsx(path))
    assert fast.header_row == 4 and fast.row_numbers[3] == 11  # blank rows 8-10 dropped, numbers kept


def test_xlsx_with_numbers_goes_through_calamine(tmp_path, regs):
    cells = _sheet(regs.head(4))
    cells[4][list(regs.columns).index("准考证号")] = 232045200001.0
    path = write_xlsx_cells(cells, tmp_path / "报名.xlsx")
    assert reading._typed_cells_near_top(path)
    assert reading._xlsx_text_table(path) is None
    raw = reading.read_table(path, REG.alias_map, REG.required)
    assert raw.columns["ticket_no"].iat[0] == "232045200001"
    _same(raw, _plain_xlsx(path))


def test_xlsx_with_numbers_below_the_peek_still_goes_through_calamine(tmp_path, regs, monkeypatch):
    cells = _sheet(regs)
    cells[-1][list(regs.columns).index("准考证号")] = 232045200001.0
    path = write_xlsx_cells(cells, tmp_path / "报名.xlsx")
    monkeypatch.setattr(reading, "_SHEET_PEEK_BYTES", 2000)
    assert not reading._typed_cells_near_top(path)
    raw = reading.read_table(path, REG.alias_map, REG.required)
    assert raw.columns["ticket_no"].iat[-1] == "232045200001"
    _same(raw, _plain_xlsx(path))


def test_xlsx_first_sheet_is_read_when_there_are_several(tmp_path, regs):
    import xlsxwriter

    path = tmp_path / "报名.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    first, second = wb.add_worksheet("报名"), wb.add_worksheet("说明")
    for i, row in enumerate([list(regs.columns), *regs.head(3).values.tolist()]):
        for j, v in enumerate(row):
            first.write_string(i, j, v)
    second.write_number(0, 0, 1.0)
    wb.close()
    assert reading._first_sheet_member(__import__("zipfile").ZipFile(path)) == "xl/worksheets/sheet1.xml"
    assert not reading._typed_cells_near_top(path)
    _same(reading.read_table(path, REG.alias_map, REG.required), _plain_xlsx(path))


def test_strip_trims_only_what_needs_it():
    import pyarrow as pa

    values = ["a", " b", "c ", "\u3000d\u3000", "   ", "", None, "阿卜杜·热合曼", "丨", "e\u2028"]
    out = reading._strip(pa.chunked_array([pa.array(values[:5]), pa.array(values[5:])])).to_pylist()
    assert out == [reading.cell_text(v) for v in values]
    clean = pa.array(["张三", "李四", None])
    assert reading._strip(clean).to_pylist() == ["张三", "李四", None]


@pytest.mark.parametrize("value", ["11010519491231002x", " 1101 05 ", "dm2107", "ｘ1", "DM\u3000001", "DM21074", None])
def test_clean_code_skips_only_needless_passes(value):
    s = pd.Series([value, "DM21074"], dtype="str")
    plain = s.str.replace(SPACE_RUN, "", regex=True).str.upper()
    assert clean_code(s).tolist() == plain.tolist()


def test_byte_classes():
    assert byte_classes(pd.Series(["DM21074", "0123"], dtype="str")) == 0
    assert byte_classes(pd.Series(["a b"], dtype="str")) == 3
    assert byte_classes(pd.Series(["张三"], dtype="str")) & 4
    assert byte_classes(pd.Series([1, 2])) is None


def test_repeated_keys_on_a_large_frame_match_pandas():
    rng = np.random.default_rng(7)
    n = 60_000  # above the size where DuckDB hashes the keys
    ids = pd.Series([f"{x:018d}" for x in rng.integers(0, 10**12, n)], dtype="str")
    frame = pd.DataFrame({"batch_code": pd.Series(["2023-1"] * n, dtype="str"), "id_no": ids,
                          "level": pd.Series(rng.choice(["初级", "中级"], n), dtype="str")})
    for src, dst in ((5, 70), (9, 59_999), (100, 200), (300, 301)):
        frame.iloc[dst] = frame.iloc[src]
    frame.loc[400, "level"] = None
    frame.loc[401] = frame.loc[400]
    frame.loc[500, "id_no"] = frame.loc[501, "id_no"]  # same id, maybe another level
    key = ["batch_code", "id_no", "level"]
    expected = np.flatnonzero(frame.duplicated(subset=key, keep=False).to_numpy())
    assert repeated_keys(frame, key).tolist() == expected.tolist()
    assert first_duplicates(frame, key).tolist() == frame.duplicated(subset=key, keep="first").tolist()
    assert len(expected) >= 10


DATES = ["2023-05-05 19:45:16", "2023-05-09", "2024-02-29", "2023-02-29", "2023-02-30 10:00:00", "2023-13-01",
         "2023-05-05 24:00:00", "2023-05-05 23:59:60", "1899-12-31", "2100-01-01", "0000-01-01", "2023-5-5 9:45:16",
         "2023/05/09", "2023年5月9日", "45055", "2023-05-05T19:45:16", "2023-05-05 19:45", "2023-05-05 19:45:16.5",
         "2023-05-0a", "2023-05-05 19:45:1x", "abc", None, "2000-02-29 00:00:00", "1900-02-29"]


@pytest.mark.parametrize("values", [DATES, ["2023-05-05 19:45:16"] * 5, ["2023-05-09", None, "2023-05-10"]],
                         ids=["mixed", "all plain", "dates only"])
def test_dates_read_from_bytes_match_pandas(values):
    from examdash.importers import kinds

    def plain_parse(s):
        iso = pd.to_datetime(s, errors="coerce", format="ISO8601")
        return iso, (s.notna() & iso.isna()).to_numpy()

    s = pd.Series(values, dtype="str")
    ck = kinds.Checker(REG, list(range(2, 2 + len(s))), {})
    out = kinds.parse_dates(ck, s, "registered_at", with_time=True)
    iso, rest = plain_parse(s)
    # Rows pandas reads in ISO form must come out as pandas reads them; the rest go down the same slow path.
    assert out.dtype == iso.dtype
    assert [None if pd.isna(v) else v for v in out[~rest]] == [None if pd.isna(v) else v for v in iso[~rest]]
    plain, done = kinds._plain_timestamps(s)
    assert not done[[i for i, v in enumerate(values) if v is not None and pd.isna(iso.iat[i])]].any()
