"""python -m examdash as a user runs it: exit codes 0 / 1 / 2, messages, pure CSV from query."""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

import pytest
from helpers import rows, run_cli, scalar, write_frame, wrong_check_char

from examdash.store import db

TITLE = "2023年第二次数字营销技术应用全国统考 报名信息表"


def open_db(path: Path):
    return db.connect(path, read_only=True)


@pytest.fixture
def regs(demo_frames):
    return demo_frames["registrations"]["2023-2"].head(15).copy().reset_index(drop=True)


def test_good_import_exits_0_and_a_second_changes_nothing(tmp_path, demo_file):
    _, schools_file, _ = demo_file("schools")
    path = tmp_path / "new.ducklake"
    first = run_cli(path, "import", "schools", schools_file)
    assert first.returncode == 0, first.stderr
    assert f"{schools_file.name}（院校）" in first.stdout
    assert "新增 320" in first.stdout and "已写入" in first.stdout
    con = open_db(path)
    written = db.data_version(con)
    con.close()
    second = run_cli(path, "import", "schools", schools_file, "--user", "李老师")
    assert second.returncode == 0, second.stderr
    assert "新增 0，替换 0，未变 320" in second.stdout
    con = open_db(path)
    try:
        assert scalar(con, "select count(*) from schools") == 320
        assert rows(con, "select imported_by, status from import_log order by import_id") == [
            ("cli", "已写入"), ("李老师", "无变化")]
        # the version is the snapshot of the write; an import that changed nothing leaves it
        assert written > 0 and db.data_version(con) == written
    finally:
        con.close()
    kept = list((tmp_path / "new_imports").glob("*"))
    assert len(kept) == 1 and kept[0].read_bytes() == schools_file.read_bytes()


def test_one_bad_row_exits_1_and_prints_file_row_column(empty_db_path, tmp_path, regs):
    regs.loc[6, "身份证号"] = wrong_check_char(regs.loc[6, "身份证号"])
    path = write_frame(regs, tmp_path / "报名_2023-2.xlsx", title=TITLE)
    proc = run_cli(empty_db_path, "import", "registrations", path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    error_lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1, proc.stderr
    assert re.fullmatch(r"报名_2023-2\.xlsx:9:身份证号: 身份证号「\d{17}[\dX]」校验位错误（GB 11643），应为 [\dX]",
                        error_lines[0]), error_lines[0]
    assert regs.loc[6, "身份证号"] in error_lines[0]
    assert "未写入任何数据" in proc.stdout
    con = open_db(empty_db_path)
    try:
        assert scalar(con, "select count(*) from registrations") == 0
        assert scalar(con, "select count(*) from import_log where kind = 'registrations'") == 0
    finally:
        con.close()


def test_missing_batch_exits_1_then_batch_option_exits_0(empty_db_path, tmp_path, regs):
    path = write_frame(regs.drop(columns="考试批次"), tmp_path / "报名.csv", encoding="gb18030")
    proc = run_cli(empty_db_path, "import", "registrations", path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("报名.csv:1:考试批次: 文件没有「考试批次」列")
    dry = run_cli(empty_db_path, "import", "registrations", path, "--batch", "2023-2", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"新增 {len(regs)}" in dry.stdout and "仅校验" in dry.stdout
    con = open_db(empty_db_path)
    try:
        assert scalar(con, "select count(*) from registrations") == 0
    finally:
        con.close()
    ok = run_cli(empty_db_path, "import", "registrations", path, "--batch", "2023-2")
    assert ok.returncode == 0, ok.stderr
    con = open_db(empty_db_path)
    try:
        assert scalar(con, "select count(*) from registrations where batch_code = '2023-2'") == len(regs)
    finally:
        con.close()


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["import", "students", "{file}"], "invalid choice"),
        (["import", "registrations", "{missing}"], "文件不存在"),
        (["import", "registrations"], "required"),
        (["import", "registrations", "{file}", "--no-such-flag"], "unrecognized"),
        ([], "required"),
        (["frobnicate"], "invalid choice"),
        (["query", "no_such_query"], "no_such_query"),
        (["query", "batches", "--param", "batch"], "key=value"),
        (["query", "batches", "--format", "json"], "invalid choice"),
        (["demo", "--candidates", "5"], "--candidates"),
    ],
)
def test_usage_errors_exit_2(tmp_path, demo_file, args, fragment):
    _, schools_file, _ = demo_file("schools")
    path = tmp_path / "usage.ducklake"
    args = [a.format(file=schools_file, missing=tmp_path / "不存在.xlsx") for a in args]
    proc = run_cli(path, *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


QUERY_SQL = """\
-- name: cli_csv_check
-- purpose: schools with awkward text, to check that query --format csv prints CSV and nothing else
-- grain: one row per school
-- params: $province?
-- key: school_code
-- access: all
with school_rows as (
    select school_code, school_name, province, is_pilot from schools
    where $province is null or province = $province
),
final as (
    select
        school_code,
        school_name,
        province,
        is_pilot,
        '含,逗号 "引号"' || chr(10) || '第二行' as awkward,
        1.5 as num,
        null as empty
    from school_rows
)
select * from final order by school_code
"""

# Runs `python -m examdash` exactly (runpy, as -m does) with the named queries read from a folder
# of the test's own: the suite does not depend on which queries/ files exist today.
WITH_QUERY_DIR = [
    sys.executable, "-c",
    "import runpy, sys; from pathlib import Path; import examdash.store.sql_files as s; "
    "s.QUERIES_DIR = Path(sys.argv.pop(1)); runpy.run_module('examdash', run_name='__main__', alter_sys=True)",
]


@pytest.mark.parametrize("province", [None, "广东省"])
def test_query_csv_is_pure_csv(demo_db_path, demo_world, tmp_path, province):
    qdir = tmp_path / "queries"
    qdir.mkdir()
    (qdir / "cli_csv_check.sql").write_text(QUERY_SQL, encoding="utf-8")
    args = ["query", "cli_csv_check", "--format", "csv"] + (["--param", f"province={province}"] if province else [])
    proc = run_cli(demo_db_path, *args, prefix=WITH_QUERY_DIR + [str(qdir)])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("school_code,school_name,province,is_pilot,awkward,num,empty\n")
    table = list(csv.reader(io.StringIO(out)))
    header, body = table[0], table[1:]
    schools = demo_world.schools
    if province:
        schools = schools[schools.province == province]
    assert len(body) == len(schools) > 0
    assert all(len(r) == len(header) for r in body)
    assert [r[0] for r in body] == sorted(schools.school_code)  # codes keep their leading zeros
    assert any(r[0].startswith("0") for r in body)
    assert {r[4] for r in body} == {'含,逗号 "引号"\n第二行'}
    assert {r[5] for r in body} == {"1.5"} and {r[6] for r in body} == {""}
    assert out.endswith("\n") and not out.endswith("\n\n")


def test_query_from_the_real_queries_folder_is_pure_csv(demo_db_path):
    from examdash.store.sql_files import named_queries

    q = named_queries().get("batches")
    if q is None or q.required:
        pytest.skip("queries/batches.sql is not there (yet) or takes parameters")
    proc = run_cli(demo_db_path, "query", "batches", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    table = list(csv.reader(io.StringIO(proc.stdout)))
    assert len(table) >= 3  # header + the two 2023 batches
    assert len({len(r) for r in table}) == 1
    assert any("2023-1" in r for r in table[1:]) and any("2023-2" in r for r in table[1:])


def test_init_creates_a_database(tmp_path):
    path = tmp_path / "init.ducklake"
    proc = run_cli(path, "init")
    assert proc.returncode == 0, proc.stderr
    assert path.exists()
    con = open_db(path)
    try:
        assert {r[0] for r in rows(con, "select batch_code from batches")} >= {"2023-1", "2023-2"}
    finally:
        con.close()
