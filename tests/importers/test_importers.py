"""The importers: every validation rule of the data contract (docs/ARCHITECTURE.md) with its file:row:column message,
idempotency, replacement, score versions, atomicity and the import log."""

from __future__ import annotations

import hashlib
import re

import pandas as pd
import pytest
from helpers import (
    DEMO_SEED,
    copy_db,
    find_line,
    id_ending_in_x,
    rows,
    scalar,
    table_snapshot,
    write_frame,
    write_xlsx_cells,
    wrong_check_char,
)

from examdash import demo
from examdash.config import imports_dir
from examdash.domain import ids as id_rules
from examdash.importers import import_file
from examdash.store import db

TITLE = "2023年第二次数字营销技术应用全国统考 报名信息表"
LOG_TABLES = ("import_log", "audit_log", "id_counters")


def data_snapshot(con):
    """Every table except the logs (which record even an import that changes nothing)."""
    return {k: v for k, v in table_snapshot(con).items() if k not in LOG_TABLES}


@pytest.fixture
def regs(demo_frames):
    """Twenty demo registrations of 2023-2; empty_db has the demo's schools and sites for them."""
    return demo_frames["registrations"]["2023-2"].head(20).copy().reset_index(drop=True)


@pytest.fixture
def scores1(demo_frames):
    """Demo scores of 2023-1 (all imported into fresh_db), non-absent rows first."""
    sc = demo_frames["scores"]["2023-1"]
    present_first = pd.concat([sc[sc["理论成绩"] != "缺考"], sc[sc["理论成绩"] == "缺考"]])
    return present_first.reset_index(drop=True)


def _import(con, kind, frame, path, **kw):
    write_frame(frame, path, title=kw.pop("title", None), encoding=kw.pop("encoding", "utf-8-sig"))
    return import_file(con, kind, path, **kw)


# --- the demo database itself -------------------------------------------------------------------


def test_demo_frames_match_the_demo_database(demo_db_path, demo_frames):
    con = db.connect(demo_db_path, read_only=True)
    try:
        for batch, frame in demo_frames["registrations"].items():
            stored = rows(con, "select id_no, level, name, ticket_no from registrations where batch_code = $b "
                               "order by ticket_no", {"b": batch})
            expected = sorted(zip(frame["身份证号"], frame["级别"], frame["姓名"], frame["准考证号"]), key=lambda r: r[3])
            assert stored == expected
        for batch, frame in demo_frames["scores"].items():
            assert scalar(con, "select count(*) from score_versions where batch_code = $b and source = 'import'", {"b": batch}) == len(frame)
    finally:
        con.close()


def test_demo_database_keeps_ids_and_codes_as_text(demo_db_path, demo_world):
    con = db.connect(demo_db_path, read_only=True)
    try:
        ids = [r[0] for r in rows(con, "select id_no from registrations")]
        assert len(ids) > 5000
        assert all(isinstance(i, str) and len(i) == 18 for i in ids)
        assert id_rules.ids_valid(ids).all()
        assert any(i.endswith("X") for i in ids)
        codes = {r[0] for r in rows(con, "select school_code from schools")}
        assert codes == set(demo_world.schools.school_code)
        assert any(c.startswith("0") for c in codes)
        assert scalar(con, "select count(*) from registrations where school_code like '0%'") > 0
        assert scalar(con, "select count(*) from attendance a join registrations r using (batch_code, ticket_no)") == \
            scalar(con, "select count(*) from attendance")
    finally:
        con.close()


# --- validation rules, each with file, Excel row and column ---------------------------------------


def test_bad_id_check_digit(empty_db, tmp_path, regs):
    regs.loc[4, "身份证号"] = wrong_check_char(regs.loc[4, "身份证号"])
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.xlsx", title=TITLE)
    assert not result.ok
    assert len(result.errors) == 1
    line = find_line(result, 7, "身份证号", "校验位")  # title row 1, header row 2, data from row 3
    assert regs.loc[4, "身份证号"] in line
    assert f"应为 {id_rules.id_check_char(regs.loc[4, '身份证号'][:17])}" in line
    assert scalar(empty_db, "select count(*) from registrations") == 0


def test_lower_case_x_in_an_id_is_normalised(empty_db, tmp_path, regs):
    with_x = id_ending_in_x()
    regs.loc[2, "身份证号"] = with_x[:17] + "x"
    regs.loc[3, "身份证号"] = " " + id_ending_in_x(500).lower() + " "
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.csv")
    assert result.ok, result.lines()
    stored = {r[0] for r in rows(empty_db, "select id_no from registrations")}
    assert with_x in stored and id_ending_in_x(500) in stored
    assert not any("x" in s for s in stored)
    regs.loc[2, "身份证号"] = with_x  # the same person written with an upper-case X: same key
    regs.loc[3, "身份证号"] = id_ending_in_x(500)
    again = _import(empty_db, "registrations", regs, tmp_path / "报名2.csv")
    assert (again.added, again.replaced, again.unchanged) == (0, 0, len(regs))


def test_id_turned_into_a_number_by_excel_in_xlsx(empty_db, tmp_path, regs):
    header = list(regs.columns)
    cells = [[TITLE], header]
    for i, rec in enumerate(regs.head(5).itertuples(index=False)):
        row = list(rec)
        if i == 3:
            row[header.index("身份证号")] = float(row[header.index("身份证号")][:17])  # a General cell
        cells.append(row)
    path = write_xlsx_cells(cells, tmp_path / "报名.xlsx", merge_first_row=True)
    result = import_file(empty_db, "registrations", path)
    assert not result.ok
    find_line(result, 6, "身份证号", "Excel")


def test_id_turned_into_a_number_by_excel_in_csv(empty_db, tmp_path, regs):
    regs.loc[0, "身份证号"] = "1.10105E+17"
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.csv")
    assert not result.ok
    find_line(result, 2, "身份证号", "Excel")


def test_id_with_wrong_length(empty_db, tmp_path, regs):
    regs.loc[0, "身份证号"] = regs.loc[0, "身份证号"] + "5"  # 19 characters, the first 18 valid
    regs.loc[1, "身份证号"] = regs.loc[1, "身份证号"][:17]
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.csv")
    assert not result.ok
    find_line(result, 2, "身份证号", "18 位")
    find_line(result, 3, "身份证号", "18 位")


def test_unknown_site_code_and_site_name(empty_db, tmp_path, regs):
    regs.loc[1, "考点代码"] = "DM99999"
    regs.loc[2, "考点代码"] = None
    regs.loc[2, "考点名称"] = "不存在的考点"
    regs.loc[3, "考点代码"] = None  # a known name alone is enough
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.xlsx", title=TITLE)
    assert len(result.errors) == 2, result.lines()
    find_line(result, 4, "考点代码", "DM99999")
    find_line(result, 5, "考点名称", "不存在的考点")


def test_unknown_school_code_and_school_name(empty_db, tmp_path, regs):
    students = regs.index[regs["考生类型"] == "在校生"][:3]
    regs.loc[students[0], "院校代码"] = "99999"
    regs.loc[students[1], "院校代码"] = None
    regs.loc[students[1], "院校名称"] = "不存在职业学院"
    regs.loc[students[2], "院校代码"] = None
    regs.loc[students[2], "院校名称"] = None
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.csv")
    assert len(result.errors) == 3, result.lines()
    find_line(result, students[0] + 2, "院校代码", "99999")
    find_line(result, students[1] + 2, "院校名称", "不存在职业学院")
    find_line(result, students[2] + 2, "院校代码", "院校")


def test_school_resolved_by_name_and_social_candidate_by_site(empty_db, tmp_path, regs):
    regs.loc[0, "院校代码"] = None  # the name alone identifies the school
    regs.loc[1, "考生类型"] = "社会考生"
    regs.loc[1, "院校代码"] = None
    regs.loc[1, "院校名称"] = None
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.csv")
    assert result.ok, result.lines()
    got = dict(rows(empty_db, "select id_no, school_code from registrations"))
    assert got[regs.loc[0, "身份证号"]] == _school_code_named(empty_db, regs.loc[0, "院校名称"])
    site_school = scalar(empty_db, "select school_code from sites where site_code = $s", {"s": regs.loc[1, "考点代码"]})
    assert got[regs.loc[1, "身份证号"]] == site_school


def _school_code_named(con, name):
    return scalar(con, "select school_code from schools where school_name = $n", {"n": name})


@pytest.mark.parametrize("level", ["高级", "三级", "初中", "primary"])
def test_level_not_junior_or_intermediate(empty_db, tmp_path, regs, level):
    regs.loc[5, "级别"] = level
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.xlsx", title=TITLE)
    assert len(result.errors) == 1, result.lines()
    line = find_line(result, 8, "级别", level)
    assert "初级 或 中级" in line


def test_empty_required_cells(empty_db, tmp_path, regs):
    regs.loc[0, "级别"] = None
    regs.loc[1, "姓名"] = "  "
    regs.loc[2, "身份证号"] = None
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.csv")
    find_line(result, 2, "级别", "不能为空")
    find_line(result, 3, "姓名", "不能为空")
    find_line(result, 4, "身份证号", "不能为空")


def test_duplicate_key_inside_a_registration_file(empty_db, tmp_path, regs):
    regs.loc[9] = regs.loc[3]
    regs.loc[9, "准考证号"] = "239999999999"  # only the key repeats
    regs.loc[10, "身份证号"] = regs.loc[3, "身份证号"]  # same person, other level: not a duplicate
    regs.loc[10, "级别"] = "中级" if regs.loc[3, "级别"] == "初级" else "初级"
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.xlsx", title=TITLE)
    assert len(result.errors) == 1, result.lines()
    line = find_line(result, 12, "级别", "重复")
    assert "第 6 行" in line  # names the row it repeats, as Excel numbers it


def test_duplicate_key_with_another_error_in_the_key_does_not_crash(empty_db, tmp_path, regs):
    regs.loc[6] = regs.loc[2]
    regs.loc[0, "级别"] = "高级"  # a key cell that maps to nothing
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.csv")
    find_line(result, 2, "级别", "高级")
    find_line(result, 8, "级别", "第 4 行")


def test_duplicate_ticket_inside_a_registration_file(empty_db, tmp_path, regs):
    regs.loc[7, "准考证号"] = regs.loc[1, "准考证号"]
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.csv")
    find_line(result, 9, "准考证号", regs.loc[1, "准考证号"])


def test_late_registration_is_a_warning_not_an_error(empty_db, tmp_path, regs):
    regs.loc[0, "报名时间"] = "2023-06-02 09:00:00"  # 2023-2 closed on 05-30
    result = _import(empty_db, "registrations", regs, tmp_path / "报名.csv")
    assert result.ok
    assert len(result.warnings) == 1
    assert result.lines() == [find_line(result, 2, "报名时间", "截止日 2023-05-30")]
    assert result.lines()[0].startswith("警告 报名.csv:2:报名时间: ")
    assert result.added == len(regs)


@pytest.mark.parametrize("bad", ["101", "-1", "100.1", "1e3"])
def test_score_outside_0_100(fresh_db, tmp_path, scores1, bad):
    frame = scores1.head(10).copy()
    frame.loc[3, "理论成绩"] = bad
    frame.loc[6, "实操成绩"] = bad
    result = _import(fresh_db, "scores", frame, tmp_path / "成绩.xlsx", title="2023年第一次 成绩表")
    assert len(result.errors) == 2, result.lines()
    find_line(result, 6, "理论成绩", f"「{bad}」")
    find_line(result, 9, "实操成绩", "0-100")


@pytest.mark.parametrize("bad", ["八十", "abc", "60分", "六十"])
def test_score_not_a_number(fresh_db, tmp_path, scores1, bad):
    frame = scores1.head(10).copy()
    frame.loc[2, "实操成绩"] = bad
    frame.loc[4, "总成绩"] = bad
    result = _import(fresh_db, "scores", frame, tmp_path / "成绩.csv")
    assert not result.ok
    find_line(result, 4, "实操成绩", f"「{bad}」")
    find_line(result, 6, "总成绩", f"「{bad}」")


def test_score_bounds_are_inclusive(fresh_db, tmp_path, scores1):
    frame = scores1.head(4).copy()
    frame["理论成绩"] = ["0", "100", "59.5", "60"]
    frame["实操成绩"] = ["100", "0", "60", "99.9"]
    frame["总成绩"] = None
    frame["是否合格"] = None
    result = _import(fresh_db, "scores", frame, tmp_path / "成绩.csv")
    assert result.ok, result.lines()
    assert result.replaced == 4


def test_absent_in_a_score_cell_means_absent(fresh_db, tmp_path, scores1):
    frame = scores1.head(3).copy()
    frame.loc[0, ["理论成绩", "实操成绩", "总成绩"]] = "缺考"
    frame.loc[1, "理论成绩"] = "缺考"
    frame.loc[[0, 1], "是否合格"] = "不合格"
    result = _import(fresh_db, "scores", frame, tmp_path / "成绩.csv")
    assert result.ok, result.lines()
    assert (result.added, result.replaced, result.unchanged) == (0, 2, 1)
    latest = {t: (absent, theory, practical, total) for t, absent, theory, practical, total in rows(
        fresh_db, "select ticket_no, absent, theory, practical, total from score_versions "
                  "qualify row_number() over (partition by batch_code, ticket_no order by version desc) = 1 "
                  "and list_contains($t, ticket_no)", {"t": frame["准考证号"].tolist()})}
    assert latest[frame.loc[0, "准考证号"]] == (True, None, None, None)
    assert latest[frame.loc[1, "准考证号"]] == (True, None, None, None)
    assert latest[frame.loc[2, "准考证号"]][0] is False
    passed = dict(rows(fresh_db, "select ticket_no, passed from results where list_contains($t, ticket_no)",
                       {"t": frame["准考证号"].tolist()[:2]}))
    assert passed == {frame.loc[0, "准考证号"]: False, frame.loc[1, "准考证号"]: False}


def test_demo_absent_scores_are_stored_as_absent(demo_db_path, scores1):
    absent = scores1[scores1["理论成绩"] == "缺考"]["准考证号"].tolist()
    assert absent
    con = db.connect(demo_db_path, read_only=True)
    try:
        got = rows(con, "select bool_and(absent), count(theory), count(*) from score_versions "
                        "where batch_code = '2023-1' and list_contains($t, ticket_no)", {"t": absent})
    finally:
        con.close()
    assert got == [(True, 0, len(absent))]


def test_missing_practical_score_is_an_error(fresh_db, tmp_path, scores1):
    frame = scores1.head(5).copy()
    frame.loc[1, "实操成绩"] = None
    result = _import(fresh_db, "scores", frame, tmp_path / "成绩.csv")
    find_line(result, 3, "实操成绩", "不能为空")


def test_duplicate_key_inside_a_score_file(fresh_db, tmp_path, scores1):
    frame = pd.concat([scores1.head(6), scores1.iloc[[2]]]).reset_index(drop=True)
    result = _import(fresh_db, "scores", frame, tmp_path / "成绩.csv", title="成绩表")
    assert len(result.errors) == 1, result.lines()
    line = find_line(result, 9, "准考证号", "重复")
    assert "第 5 行" in line


def test_score_for_a_ticket_nobody_registered(fresh_db, tmp_path, scores1, demo_frames):
    frame = scores1.head(6).copy()
    frame.loc[2, "准考证号"] = "231999900001"
    frame.loc[2, "身份证号"] = None
    other_batch = demo_frames["registrations"]["2023-2"]["准考证号"].iat[0]
    frame.loc[4, "准考证号"] = other_batch  # registered, but for the other batch
    frame.loc[4, "身份证号"] = None
    result = _import(fresh_db, "scores", frame, tmp_path / "成绩.xlsx", title="成绩表")
    assert len(result.errors) == 2, result.lines()
    find_line(result, 5, "准考证号", "没有报名记录")
    find_line(result, 7, "准考证号", other_batch)


def test_score_id_must_match_the_registration(fresh_db, tmp_path, scores1):
    frame = scores1.head(4).copy()
    frame.loc[1, "身份证号"] = scores1.loc[2, "身份证号"]
    result = _import(fresh_db, "scores", frame, tmp_path / "成绩.csv")
    find_line(result, 3, "身份证号", "不一致")


def test_attendance_for_a_ticket_nobody_registered(fresh_db, tmp_path, demo_frames):
    frame = demo_frames["attendance"]["2023-1"].head(5).copy()
    frame.loc[3, "准考证号"] = "231999900009"
    frame.loc[1, "签到状态"] = "迟到"
    result = _import(fresh_db, "attendance", frame, tmp_path / "签到.csv", batch="2023-1")
    assert len(result.errors) == 2, result.lines()
    find_line(result, 5, "准考证号", "没有报名记录")
    find_line(result, 3, "签到状态", "迟到")


def test_supplied_verdict_that_disagrees_is_a_warning(fresh_db, tmp_path, scores1):
    frame = scores1.head(3).copy()
    frame["理论成绩"] = ["90", "50", "70"]
    frame["实操成绩"] = ["90", "90", "70"]
    frame["是否合格"] = ["合格", "合格", "合格"]
    result = _import(fresh_db, "scores", frame, tmp_path / "成绩.csv")
    assert result.ok
    assert len(result.warnings) == 1
    assert result.lines()[0].startswith("警告 成绩.csv:3:是否合格: ")
    assert "以规则为准" in result.lines()[0]
    mismatch = scalar(fresh_db, "select verdict_mismatch from results where ticket_no = $t",
                      {"t": frame.loc[1, "准考证号"]})
    assert mismatch is True


@pytest.mark.parametrize(
    "kind, frame_of, drop, label",
    [
        ("registrations", lambda f: f["registrations"]["2023-2"].head(5), "身份证号", "身份证号"),
        ("registrations", lambda f: f["registrations"]["2023-2"].head(5), "级别", "级别"),
        ("scores", lambda f: f["scores"]["2023-1"].head(5), "理论成绩", "理论成绩"),
        ("attendance", lambda f: f["attendance"]["2023-1"].head(5).assign(考试批次="2023-1"), "签到状态", "签到状态"),
    ],
)
def test_missing_required_column(empty_db, tmp_path, demo_frames, kind, frame_of, drop, label):
    frame = frame_of(demo_frames).drop(columns=drop)
    result = _import(empty_db, kind, frame, tmp_path / "导出.xlsx", title="导出表")
    assert not result.ok
    assert len(result.errors) == 1
    line = find_line(result, 2, label, "缺少必需的列")
    assert label in line.split(": ", 1)[1]


@pytest.mark.parametrize("kind", ["registrations", "attendance", "scores"])
def test_file_without_batch_column_and_no_batch(fresh_db, tmp_path, demo_frames, kind):
    frame = demo_frames[kind]["2023-1"].head(5).drop(columns="考试批次", errors="ignore")
    before = data_snapshot(fresh_db)
    result = _import(fresh_db, kind, frame, tmp_path / "导出.csv", title="2023年第一次 导出")
    assert not result.ok
    assert len(result.errors) == 1
    line = find_line(result, 2, "考试批次", "--batch")
    assert line.startswith("导出.csv:2:考试批次: ")
    with_batch = import_file(fresh_db, kind, tmp_path / "导出.csv", batch="2023-1")
    assert with_batch.ok, with_batch.lines()
    assert with_batch.unchanged == 5  # the same rows the demo imported with its batch column
    assert data_snapshot(fresh_db) == before


def test_batch_option_that_contradicts_the_file(fresh_db, tmp_path, demo_frames):
    frame = demo_frames["scores"]["2023-1"].head(3)
    result = _import(fresh_db, "scores", frame, tmp_path / "成绩.csv", batch="2023-2")
    assert len(result.errors) == 3
    find_line(result, 2, "考试批次", "--batch 2023-2")


def test_unknown_batch(fresh_db, tmp_path, demo_frames):
    frame = demo_frames["attendance"]["2023-1"].head(3)
    result = _import(fresh_db, "attendance", frame, tmp_path / "签到.csv", batch="2031-9")
    find_line(result, 1, "考试批次", "2031-9")
    frame = frame.assign(考试批次=["2023-1", "2031-9", "2023年第一次数字营销技术应用全国统考"])
    result = _import(fresh_db, "attendance", frame, tmp_path / "签到2.csv")
    assert len(result.errors) == 1, result.lines()  # a batch's full name is accepted
    find_line(result, 3, "考试批次", "2031-9")


LINE_RE = re.compile(r"^(?:警告 )?(?P<file>[^:]+):(?P<row>\d+):(?P<col>[^:]+): (?P<msg>.+)$")


@pytest.mark.parametrize("suffix, title", [(".xlsx", TITLE), (".csv", TITLE), (".csv", None), (".xlsx", None)])
def test_every_message_names_file_row_and_column(empty_db, tmp_path, regs, suffix, title):
    regs.loc[0, "身份证号"] = wrong_check_char(regs.loc[0, "身份证号"])
    regs.loc[2, "级别"] = "高级"
    regs.loc[4, "考点代码"] = "NOPE1"
    regs.loc[5, "院校代码"] = "NOPE2"
    regs.loc[7, "身份证号"] = "4.4E+17"
    regs.loc[8, "考生类型"] = "旁听生"
    regs.loc[9, "报名时间"] = "昨天"
    regs.loc[11, "报名状态"] = "未知"
    regs.loc[13] = regs.loc[12]
    regs.loc[15, "报名时间"] = "2023-06-30 10:00"  # a warning
    bad_rows = {0, 2, 4, 5, 7, 8, 9, 11, 13, 15}
    name = f"报名{suffix}"
    result = _import(empty_db, "registrations", regs, tmp_path / name, title=title)
    first = 3 if title else 2
    lines = result.lines()
    assert len(result.errors) == 10 and len(result.warnings) == 1
    seen_rows = set()
    for line in lines:
        m = LINE_RE.match(line)
        assert m, line
        assert m["file"] == name
        assert m["col"] in regs.columns, line
        seen_rows.add(int(m["row"]))
    assert seen_rows == {first + i for i in bad_rows}
    assert f"涉及 {len(bad_rows) - 1} 行" in result.summary() and "未写入任何数据" in result.summary()


def test_errors_block_and_write_nothing(fresh_db, fresh_db_path, tmp_path, regs):
    regs.loc[3, "级别"] = "高级"
    before = table_snapshot(fresh_db)
    version = db.data_version(fresh_db)
    result = _import(fresh_db, "registrations", regs, tmp_path / "报名.csv", db_file=fresh_db_path)
    assert not result.ok and not result.written and result.import_id is None
    assert table_snapshot(fresh_db) == before
    assert db.data_version(fresh_db) == version
    stored = imports_dir(fresh_db_path)
    assert not any(p.name.endswith("报名.csv") for p in stored.glob("*"))


# --- idempotency and replacement ------------------------------------------------------------------


def test_reimporting_every_demo_file_changes_nothing(fresh_db, fresh_db_path, demo_files):
    before = data_snapshot(fresh_db)
    version = db.data_version(fresh_db)
    logged = scalar(fresh_db, "select count(*) from import_log")
    for kind, path, batch in demo_files:
        result = import_file(fresh_db, kind, path, batch=batch, actor="test", db_file=fresh_db_path)
        assert result.ok, result.lines()
        assert result.rows_total > 0
        assert (result.added, result.replaced, result.unchanged) == (0, 0, result.rows_total), (kind, path.name)
        assert "数据无变化" in result.summary()
    assert db.data_version(fresh_db) == version
    assert data_snapshot(fresh_db) == before
    statuses = rows(fresh_db, "select status, count(*) from import_log where import_id > $n group by all",
                    {"n": logged})
    assert statuses == [("无变化", len(demo_files))]


def test_import_twice_into_a_new_database(empty_db, tmp_path, regs):
    path = write_frame(regs, tmp_path / "报名.xlsx", title=TITLE)
    v0 = db.data_version(empty_db)
    first = import_file(empty_db, "registrations", path)
    assert (first.added, first.replaced, first.unchanged) == (len(regs), 0, 0)
    v1 = db.data_version(empty_db)
    assert v1 > v0  # the snapshot of the import
    snap = data_snapshot(empty_db)
    second = import_file(empty_db, "registrations", path)
    assert second.ok and second.written
    assert (second.added, second.replaced, second.unchanged) == (0, 0, len(regs))
    assert db.data_version(empty_db) == v1
    assert data_snapshot(empty_db) == snap


def test_corrected_registration_file_replaces_the_rows_it_covers(fresh_db, tmp_path, demo_frames):
    full = demo_frames["registrations"]["2023-2"].copy()
    n_before = scalar(fresh_db, "select count(*) from registrations")
    version = db.data_version(fresh_db)
    full.loc[5, "姓名"] = "更正甲"
    full.loc[17, "姓名"] = "更正乙"
    other_site = next(s for s in demo_frames["registrations"]["2023-1"]["考点代码"] if s != full.loc[40, "考点代码"])
    full.loc[40, "考点代码"] = other_site
    full.loc[40, "考点名称"] = None
    result = _import(fresh_db, "registrations", full, tmp_path / "报名_2023-2_更正.csv")
    assert result.ok, result.lines()
    assert (result.added, result.replaced, result.unchanged) == (0, 3, len(full) - 3)
    assert "替换 3" in result.summary()
    assert scalar(fresh_db, "select count(*) from registrations") == n_before
    got = dict(rows(fresh_db, "select id_no, name from registrations where batch_code = '2023-2'"))
    assert got[full.loc[5, "身份证号"]] == "更正甲" and got[full.loc[17, "身份证号"]] == "更正乙"
    assert scalar(fresh_db, "select site_code from registrations where batch_code = '2023-2' and id_no = $i "
                            "and level = $l", {"i": full.loc[40, "身份证号"], "l": full.loc[40, "级别"]}) == other_site
    assert scalar(fresh_db, "select name from results where batch_code = '2023-2' and id_no = $i and level = $l",
                  {"i": full.loc[5, "身份证号"], "l": full.loc[5, "级别"]}) == "更正甲"
    assert db.data_version(fresh_db) > version


def test_partial_corrected_file_leaves_other_rows_alone(fresh_db, tmp_path, demo_frames):
    part = demo_frames["registrations"]["2023-1"].iloc[100:110].copy().reset_index(drop=True)
    part.loc[3, "报名状态"] = "已取消"
    extra = demo_frames["registrations"]["2023-1"].iloc[[0]].copy()
    extra["身份证号"] = id_ending_in_x(321)
    extra["准考证号"] = "231999900077"
    frame = pd.concat([part, extra]).reset_index(drop=True)
    before = dict(((r[0], r[1], r[2]), r[3:]) for r in rows(fresh_db, "select batch_code, id_no, level, name, status, "
                                                                     "ticket_no, import_id from registrations"))
    path = tmp_path / "报名_补充.xlsx"
    unconfirmed = _import(fresh_db, "registrations", frame, path, title=TITLE)
    # Cancelling a registration changes fees and statistics: written only once confirmed.
    assert unconfirmed.ok and unconfirmed.needs_confirm and not unconfirmed.written
    assert any("已取消" in line for line in unconfirmed.impacts), unconfirmed.impacts
    result = import_file(fresh_db, "registrations", path, confirm=True)
    assert result.ok, result.lines()
    assert (result.added, result.replaced, result.unchanged) == (1, 1, 9)
    after = dict(((r[0], r[1], r[2]), r[3:]) for r in rows(fresh_db, "select batch_code, id_no, level, name, status, "
                                                                    "ticket_no, import_id from registrations"))
    assert len(after) == len(before) + 1
    changed = {k for k in before if after[k] != before[k]}
    assert changed == {("2023-1", part.loc[3, "身份证号"], part.loc[3, "级别"])}
    assert after[("2023-1", part.loc[3, "身份证号"], part.loc[3, "级别"])][1] == "已取消"


def test_corrected_score_adds_a_version_and_keeps_version_1(fresh_db, tmp_path, scores1):
    frame = scores1.head(8).copy()
    ticket = frame.loc[2, "准考证号"]
    old = float(frame.loc[2, "理论成绩"])
    new = 100.0 if old < 100 else 99.0
    frame.loc[2, "理论成绩"] = f"{new:g}"
    frame.loc[2, ["总成绩", "是否合格"]] = None  # the total is recomputed from the parts
    n_versions = scalar(fresh_db, "select count(*) from score_versions")
    result = _import(fresh_db, "scores", frame, tmp_path / "成绩_更正.csv")
    assert result.ok, result.lines()
    assert (result.added, result.replaced, result.unchanged) == (0, 1, 7)
    versions = rows(fresh_db, "select version, theory, source from score_versions where batch_code = '2023-1' "
                              "and ticket_no = $t order by version", {"t": ticket})
    assert [v for v, _, _ in versions] == [1, 2]
    assert float(versions[0][1]) == old and float(versions[1][1]) == new
    assert scalar(fresh_db, "select count(*) from score_versions") == n_versions + 1
    assert scalar(fresh_db, "select score_version from results where ticket_no = $t and batch_code = '2023-1'",
                  {"t": ticket}) == 2
    assert float(scalar(fresh_db, "select theory from results where ticket_no = $t and batch_code = '2023-1'",
                        {"t": ticket})) == new
    again = import_file(fresh_db, "scores", tmp_path / "成绩_更正.csv")
    assert (again.added, again.replaced, again.unchanged) == (0, 0, len(frame))
    assert scalar(fresh_db, "select max(version) from score_versions where ticket_no = $t", {"t": ticket}) == 2


def test_exact_corrected_score_counts(fresh_db, tmp_path, scores1):
    frame = scores1.head(8).copy()
    frame.loc[5, "实操成绩"] = "0"
    frame.loc[5, "总成绩"] = f"{round(0.4 * float(frame.loc[5, '理论成绩']), 1):g}"
    frame.loc[5, "是否合格"] = "不合格"
    result = _import(fresh_db, "scores", frame, tmp_path / "成绩_更正.xlsx", title="成绩表")
    assert result.ok, result.lines()
    assert (result.added, result.replaced, result.unchanged) == (0, 1, 7)


def test_dry_run_counts_changes_but_writes_nothing(fresh_db, tmp_path, demo_frames):
    frame = demo_frames["registrations"]["2023-2"].head(30).copy()
    frame.loc[0, "姓名"] = "预览改名"
    frame.loc[29, "身份证号"] = id_ending_in_x(77)
    frame.loc[29, "准考证号"] = "232999900001"
    before = table_snapshot(fresh_db)
    result = _import(fresh_db, "registrations", frame, tmp_path / "报名.csv", dry_run=True)
    assert result.ok and not result.written
    assert (result.added, result.replaced, result.unchanged) == (1, 1, 28)
    assert "仅校验" in result.summary()
    assert table_snapshot(fresh_db) == before


# --- atomicity --------------------------------------------------------------------------------------


def test_10000_rows_with_one_bad_row_leave_every_table_as_it_was(fresh_db, fresh_db_path, tmp_path, demo_world):
    big = demo.make_registrations(demo_world, 10_300, "2023-1", DEMO_SEED + 1).head(10_000).copy()
    assert len(big) == 10_000
    big["准考证号"] = "8" + big["准考证号"].str[1:]  # tickets the demo's 2023-1 candidates do not hold
    good_path = write_frame(big, tmp_path / "报名_大_正确.csv")
    big.loc[6789, "身份证号"] = wrong_check_char(big.loc[6789, "身份证号"])
    bad_path = write_frame(big, tmp_path / "报名_大.csv")
    before = table_snapshot(fresh_db)
    assert sum(len(v) for v in before.values()) > 10_000
    version = db.data_version(fresh_db)
    result = import_file(fresh_db, "registrations", bad_path, db_file=fresh_db_path)
    assert not result.ok
    assert result.rows_total == 10_000
    assert result.lines() == [find_line(result, 6791, "身份证号", "校验位")]
    assert result.rejected == 1
    assert table_snapshot(fresh_db) == before
    assert db.data_version(fresh_db) == version
    assert not any(p.name.endswith("报名_大.csv") for p in imports_dir(fresh_db_path).glob("*"))
    # Without the bad row the same file goes in: the one row was the only thing stopping it.
    ok = import_file(fresh_db, "registrations", good_path, db_file=fresh_db_path)
    assert ok.ok, ok.lines()[:5]
    assert ok.added + ok.replaced + ok.unchanged == 10_000 and ok.added > 0


def test_failure_while_writing_rolls_everything_back(fresh_db, tmp_path, demo_frames, monkeypatch):
    frame = demo_frames["registrations"]["2023-1"].head(50).copy()
    frame["姓名"] = "改名" + frame["姓名"]
    before = table_snapshot(fresh_db)
    version = db.data_version(fresh_db)

    def boom(cur, batches):
        raise RuntimeError("disk full")

    monkeypatch.setattr(db, "rebuild_results", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        _import(fresh_db, "registrations", frame, tmp_path / "报名.csv")
    monkeypatch.undo()
    assert table_snapshot(fresh_db) == before
    assert db.data_version(fresh_db) == version
    result = import_file(fresh_db, "registrations", tmp_path / "报名.csv")
    assert (result.added, result.replaced, result.unchanged) == (0, 50, 0)


# --- the import log and the kept original ---------------------------------------------------------


def test_import_is_logged_and_the_original_kept(empty_db, empty_db_path, tmp_path, regs):
    regs.loc[0, "报名时间"] = "2023-06-02 09:00:00"
    path = write_frame(regs, tmp_path / "报名.xlsx", title=TITLE)
    result = import_file(empty_db, "registrations", path, actor="王老师", db_file=empty_db_path)
    assert result.ok and result.written
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.sha256 == sha
    log = rows(empty_db, "select kind, file_name, sha256, stored_path, batch_code, imported_by, rows_total, added, "
                         "replaced, unchanged, warnings, status from import_log where import_id = $i",
               {"i": result.import_id})
    assert len(log) == 1
    kind, file_name, sha256, stored, batch, who, total, added, replaced, unchanged, warnings, status = log[0]
    assert (kind, file_name, sha256, batch, who) == ("registrations", "报名.xlsx", sha, "2023-2", "王老师")
    assert (total, added, replaced, unchanged, warnings, status) == (len(regs), len(regs), 0, 0, 1, "已写入")
    kept = type(path)(stored)
    assert kept.parent == imports_dir(empty_db_path)
    assert kept.read_bytes() == path.read_bytes()
    assert scalar(empty_db, "select count(*) from registrations where import_id = $i", {"i": result.import_id}) == len(regs)
    audit = rows(empty_db, "select actor, action, target from audit_log where target like 'registrations:%'")
    assert audit == [("王老师", "import", "registrations:报名.xlsx")]


# --- money kinds ----------------------------------------------------------------------------------


def test_payment_amounts(empty_db, tmp_path, demo_frames, demo_world):
    pay = demo.make_payments(demo_world, list(demo_frames["registrations"].values()), DEMO_SEED).head(6).copy()
    pay.loc[0, "金额"] = "1,234.56"
    pay.loc[1, "金额"] = "12.345"
    pay.loc[2, "金额"] = "Infinity"
    pay.loc[3, "金额"] = "二百"
    result = _import(empty_db, "payments", pay, tmp_path / "到账.xlsx", title="账户交易明细")
    assert len(result.errors) == 3, result.lines()
    for row in (4, 5, 6):
        find_line(result, row, "金额", "有效金额")
    pay = pay.drop(index=[1, 2, 3])
    result = _import(empty_db, "payments", pay, tmp_path / "到账2.xlsx", title="账户交易明细")
    assert result.ok, result.lines()
    assert scalar(empty_db, "select amount_fen from payments where bank_ref = $r",
                  {"r": pay.loc[0, "银行流水号"]}) == 123456


def test_a_rejected_or_checked_file_leaves_no_copy_behind(empty_db, empty_db_path, tmp_path, regs):
    bad = regs.copy()
    bad.loc[0, "级别"] = "高级"
    folder = imports_dir(empty_db_path)
    before = sorted(folder.iterdir()) if folder.exists() else []
    assert not _import(empty_db, "registrations", bad, tmp_path / "坏.csv", db_file=empty_db_path).ok
    assert _import(empty_db, "registrations", regs, tmp_path / "好.csv", db_file=empty_db_path, dry_run=True).ok
    assert (sorted(folder.iterdir()) if folder.exists() else []) == before
    result = _import(empty_db, "registrations", regs, tmp_path / "好.csv", db_file=empty_db_path)
    assert result.written
    assert sorted(p.name for p in folder.iterdir()) == sorted([*(p.name for p in before), f"{result.sha256[:16]}_好.csv"])


@pytest.mark.parametrize("kind", ["schools", "sites", "registrations", "attendance", "scores", "fee-standards", "payments"])
def test_the_preview_speaks_the_files_language(kind, demo_file, demo_db_path, tmp_path):
    """The preview the import page shows has the Chinese column labels, not field names like batch_code."""

    copy = copy_db(demo_db_path, tmp_path / "demo.ducklake")
    con = db.connect(copy)
    try:
        _, path, batch = demo_file(kind, "2023-1" if kind in ("registrations", "attendance", "scores") else None)
        result = import_file(con, kind, path, batch=batch, dry_run=True)
    finally:
        con.close()
    assert result.ok, result.lines(limit=5)
    columns = list(result.preview.columns)
    assert columns and all(not c.isascii() for c in columns), columns
    if kind == "payments":
        assert "金额（元）" in columns and all("." in v for v in result.preview["金额（元）"])
