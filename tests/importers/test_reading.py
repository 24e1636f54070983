"""Reading export files: encodings, header detection below title rows, aliases, text-only cells."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import find_line, rows, write_frame, write_xlsx_cells

from examdash.importers import import_file
from examdash.importers.kinds import KINDS
from examdash.importers.reading import ReadError, cell_text, norm_header, read_table

REG = KINDS["registrations"]
ATT = KINDS["attendance"]


def read(path, kind=REG):
    return read_table(path, kind.alias_map, kind.required)


@pytest.fixture(scope="module")
def regs(demo_frames):
    """Twelve demo registrations of 2023-2 (the batch the empty_db has none of either)."""
    frame = demo_frames["registrations"]["2023-2"].head(12).copy()
    # A name with 䶮 (CJK extension A): in GB18030 but not in GBK, so only a real GB18030 decode keeps it.
    frame.loc[3, "姓名"] = "刘䶮"
    return frame.reset_index(drop=True)


@pytest.mark.parametrize(
    "encoding, label", [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 (BOM)"), ("gb18030", "GB18030")]
)
def test_csv_encodings_read_the_same_text(tmp_path, regs, encoding, label):
    path = write_frame(regs, tmp_path / f"报名_{encoding}.csv", encoding=encoding)
    raw = read(path)
    assert raw.encoding == label
    assert raw.header_row == 1
    assert raw.row_numbers == list(range(2, 2 + len(regs)))
    assert raw.columns["name"].tolist() == regs["姓名"].tolist()
    assert raw.columns["site_name"].tolist() == regs["考点名称"].tolist()
    assert raw.columns["id_no"].tolist() == regs["身份证号"].tolist()
    # With a BOM the first header must still be recognised (no "\ufeff考试批次").
    assert "batch_code" in raw.columns
    assert raw.unmapped == []


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_import_end_to_end(empty_db, tmp_path, regs, encoding):
    path = write_frame(regs, tmp_path / "报名.csv", encoding=encoding, title="2023年第二次全国统考 报名信息表")
    result = import_file(empty_db, "registrations", path)
    assert result.ok, result.lines()
    assert result.added == len(regs)
    stored = dict(rows(empty_db, "select id_no, name from registrations"))
    assert stored == dict(zip(regs["身份证号"], regs["姓名"]))
    assert stored[regs.loc[3, "身份证号"]] == "刘䶮"


def test_csv_in_an_unknown_encoding_is_refused(tmp_path, regs):
    path = tmp_path / "报名.csv"
    path.write_bytes(regs.to_csv(index=False).encode("utf-8") + b"\xff\xfe\x80,\xff\n")
    with pytest.raises(ReadError) as err:
        read(path)
    assert "编码" in str(err.value)


def test_csv_title_row_is_counted_in_row_numbers(tmp_path, regs):
    path = write_frame(regs, tmp_path / "报名.csv", title="2023年第二次数字营销技术应用全国统考 报名信息表")
    raw = read(path)
    assert raw.header_row == 2
    assert raw.row_numbers[0] == 3
    assert raw.row_numbers[-1] == 2 + len(regs)


def test_csv_blank_lines_keep_row_numbers(tmp_path, regs):
    body = regs.head(3).to_csv(index=False, lineterminator="\n").splitlines()
    text = "\n".join([body[0], body[1], "", body[2], "", "", body[3]]) + "\n"
    path = tmp_path / "报名.csv"
    path.write_text(text, encoding="utf-8")
    raw = read(path)
    assert raw.row_numbers == [2, 4, 7]
    assert raw.columns["name"].tolist() == regs.head(3)["姓名"].tolist()


def test_xlsx_with_merged_title_row(tmp_path, regs):
    path = write_frame(regs, tmp_path / "报名.xlsx", title="2023年第二次数字营销技术应用全国统考 报名信息表")
    raw = read(path)
    assert raw.encoding is None
    assert raw.header_row == 2
    assert raw.row_numbers == list(range(3, 3 + len(regs)))
    assert raw.columns["ticket_no"].tolist() == regs["准考证号"].tolist()
    assert raw.columns["registered_at"].tolist() == regs["报名时间"].tolist()


def test_xlsx_with_header_on_row_1(tmp_path, regs):
    path = write_frame(regs, tmp_path / "报名.xlsx")
    raw = read(path)
    assert raw.header_row == 1
    assert raw.row_numbers == list(range(2, 2 + len(regs)))
    assert raw.columns["id_no"].tolist() == regs["身份证号"].tolist()


def test_xlsx_several_title_rows_and_blank_rows(tmp_path, regs):
    header = list(regs.columns)
    data = regs.head(3).values.tolist()
    cells = [["2023年第二次全国统考 报名信息表"], ["导出时间：2023-06-01 10:00"], [], header, data[0], [], data[1], data[2]]
    path = write_xlsx_cells(cells, tmp_path / "报名.xlsx", merge_first_row=True)
    raw = read(path)
    assert raw.header_row == 4
    assert raw.row_numbers == [5, 7, 8]
    assert raw.columns["name"].tolist() == regs.head(3)["姓名"].tolist()


def test_xlsx_numeric_cells_come_back_as_text(tmp_path, regs):
    r = regs.head(2)
    cells = [
        ["考试批次", "准考证号", "身份证号", "报名时间", "姓名", "级别", "考点代码"],
        ["2023-2", 232045200001, float(r.loc[0, "身份证号"][:17] + "1"), dt.datetime(2023, 5, 3, 0, 0),
         r.loc[0, "姓名"], "初级", r.loc[0, "考点代码"]],
        ["2023-2", "002045200002", r.loc[1, "身份证号"], dt.datetime(2023, 5, 3, 9, 30),
         r.loc[1, "姓名"], "中级", r.loc[1, "考点代码"]],
    ]
    import xlsxwriter

    path = tmp_path / "报名.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for i, row in enumerate(cells):
        for j, v in enumerate(row):
            if isinstance(v, dt.datetime):
                ws.write_datetime(i, j, v, date_fmt)
            elif isinstance(v, (int, float)):
                ws.write_number(i, j, v)
            else:
                ws.write_string(i, j, v)
    wb.close()
    raw = read(path)
    tickets = raw.columns["ticket_no"].tolist()
    assert tickets == ["232045200001", "002045200002"]  # no ".0"; a text cell keeps its zeros
    id_text = raw.columns["id_no"].iat[0]
    assert "e+17" in id_text.lower()  # the precision Excel lost is visible, not hidden as digits
    assert raw.columns["id_no"].iat[1] == r.loc[1, "身份证号"]
    assert raw.columns["registered_at"].tolist() == ["2023-05-03", "2023-05-03 09:30:00"]


@pytest.mark.parametrize(
    "header, normalised",
    [
        ("准考证号（全角）", "准考证号"),
        ("身份证号　", "身份证号"),
        ("　身份证号\u3000\u3000", "身份证号"),
        (" 姓 名 ", "姓名"),
        ("ＩＤ", "id"),
        ("*姓名", "姓名"),
        ("姓名：", "姓名"),
        ("金额（元/人·次）", "金额"),
        ("Ticket_No", "ticket_no"),
    ],
)
def test_norm_header(header, normalised):
    assert norm_header(header) == normalised


@pytest.mark.parametrize(
    "header, field",
    [
        ("身份证号码", "id_no"),
        ("证件号码", "id_no"),
        ("公民身份号码", "id_no"),
        ("身份证号　", "id_no"),
        (" 身份证号 ", "id_no"),
        ("考生姓名", "name"),
        (" 姓 名 ", "name"),
        ("准考证号码", "ticket_no"),
        ("准考证号（全角）", "ticket_no"),
        ("报考级别", "level"),
        ("ｌｅｖｅｌ", "level"),
    ],
)
def test_header_aliases(header, field):
    assert REG.alias_map[norm_header(header)] == field


def test_aliased_headers_import_end_to_end(empty_db, tmp_path, regs):
    renamed = regs.rename(columns={
        "身份证号": "身份证号码",
        "姓名": "考生姓名",
        "准考证号": "准考证号（全角）",
        "级别": " 报考级别 ",
        "考点代码": "考点代码　",
        "院校代码": "学校代码",
    })
    path = write_frame(renamed, tmp_path / "报名.xlsx", title="报名信息表")
    result = import_file(empty_db, "registrations", path)
    assert result.ok, result.lines()
    assert result.added == len(regs)
    assert result.mapping["身份证号码"] == "身份证号"
    assert result.mapping["考生姓名"] == "姓名"
    assert result.mapping["准考证号（全角）"] == "准考证号"
    stored = rows(empty_db, "select id_no, name, ticket_no, level, site_code from registrations order by ticket_no")
    expected = sorted(zip(regs["身份证号"], regs["姓名"], regs["准考证号"], regs["级别"], regs["考点代码"]),
                      key=lambda r: r[2])
    assert stored == expected


def test_second_alias_of_a_field_names_the_column_in_messages(empty_db, tmp_path, regs):
    frame = regs.rename(columns={"身份证号": "证件号码"})
    frame.loc[0, "证件号码"] = frame.loc[0, "证件号码"][:17] + ("1" if frame.loc[0, "证件号码"][17] != "1" else "2")
    result = import_file(empty_db, "registrations", write_frame(frame, tmp_path / "报名.csv"))
    assert not result.ok
    find_line(result, 2, "证件号码", "校验位")


def test_unmapped_headers_are_reported(tmp_path, regs):
    path = write_frame(regs.assign(备用字段="x"), tmp_path / "报名.csv")
    assert read(path).unmapped == ["备用字段"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_leading_zeros_in_tickets_and_codes_stay_text(empty_db, tmp_path, regs, suffix):
    frame = regs.copy()
    frame["准考证号"] = ["00" + t[2:] for t in frame["准考证号"]]
    path = write_frame(frame, tmp_path / f"报名{suffix}")
    raw = read(path)
    assert raw.columns["ticket_no"].tolist() == frame["准考证号"].tolist()
    result = import_file(empty_db, "registrations", path)
    assert result.ok, result.lines()
    stored = sorted(r[0] for r in rows(empty_db, "select ticket_no from registrations"))
    assert stored == sorted(frame["准考证号"])
    assert all(t.startswith("00") and len(t) == 12 for t in stored)


def test_leading_zeros_in_a_csv_that_needs_the_slow_path(tmp_path, regs):
    frame = regs.head(3).copy()
    frame["准考证号"] = ["0" + t[1:] for t in frame["准考证号"]]
    body = frame.to_csv(index=False, lineterminator="\n").splitlines()
    path = tmp_path / "报名.csv"
    path.write_text("\n".join([body[0], body[1], "", body[2], body[3]]) + "\n", encoding="utf-8")
    assert read(path).columns["ticket_no"].tolist() == frame["准考证号"].tolist()


def test_all_digit_columns_in_a_csv_are_not_numbers(tmp_path, demo_frames):
    att = demo_frames["attendance"]["2023-1"].head(5).copy()
    att["准考证号"] = ["0" + t for t in att["准考证号"]]
    att["座号"] = ["01", "02", "03", "04", "05"]
    raw = read(write_frame(att, tmp_path / "签到.csv", encoding="utf-8"), ATT)
    assert raw.columns["ticket_no"].tolist() == att["准考证号"].tolist()
    assert raw.columns["seat"].tolist() == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("报名.xls", b"\xd0\xcf\x11\xe0 old excel", ".xls"),
        ("报名.csv", b"", "空"),
        ("报名.csv", b"   \r\n  ", "空"),
        ("报名.csv", b"\x00\x01\x02binary", "二进制"),
        ("报名.xlsx", "考试批次,身份证号\n".encode(), "不是 Excel"),
        ("报名.xlsx", b"PK\x03\x04 truncated zip", ".xlsx"),
        ("报名.json", b"{}", "不支持"),
        ("报名.csv", "这是一份说明\n没有表头\n".encode(), "表头"),
    ],
)
def test_unreadable_files_raise_read_error(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadError) as err:
        read(path)
    assert fragment in str(err.value)


def test_unreadable_file_is_an_import_error_not_a_crash(empty_db, tmp_path):
    path = tmp_path / "报名.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0 old excel")
    result = import_file(empty_db, "registrations", path)
    assert not result.ok
    assert result.lines()[0].startswith("报名.xls:")
    assert "另存为" in result.lines()[0]


@pytest.mark.parametrize(
    "value, text",
    [
        (None, None),
        ("  ", None),
        (" 张三 ", "张三"),
        (61.0, "61"),
        (61.5, "61.5"),
        (232045200001.0, "232045200001"),
        (7, "7"),
        (True, "是"),
        (False, "否"),
        (float("nan"), None),
        (dt.datetime(2023, 5, 9, 0, 0), "2023-05-09"),
        (dt.datetime(2023, 5, 9, 10, 30), "2023-05-09 10:30:00"),
        (dt.date(2023, 5, 9), "2023-05-09"),
    ],
    ids=repr,
)
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_header_is_found_by_required_fields_not_by_a_title_that_mentions_them(tmp_path, regs):
    frame = regs.head(3)
    title = "报名表,考试批次,身份证号"
    path = tmp_path / "报名.csv"
    path.write_text(title + "\n" + frame.to_csv(index=False), encoding="utf-8")
    raw = read(path)
    assert raw.header_row == 2
    assert raw.columns["name"].tolist() == frame["姓名"].tolist()


def test_rows_after_a_cell_spanning_lines_keep_their_line_numbers(tmp_path):
    from examdash.importers import reading
    from examdash.importers.kinds import KINDS

    spec = KINDS["registrations"]
    path = tmp_path / "多行单元格.csv"
    path.write_text('标题行,,,\n考试批次,身份证号,级别,姓名\n2023-1,11010519491231002X,初级,"张\n三"\n'
                    "2023-1,11010519491231002X,高级,李四\n", encoding="utf-8")
    raw = reading.read_table(path, spec.alias_map, spec.required)
    assert raw.header_row == 2 and raw.row_numbers == [3, 5]
