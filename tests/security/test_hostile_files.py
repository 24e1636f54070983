"""Hostile uploads fail alone and fast: regex bait, a zip bomb, a huge header, a reader out of memory.

Each file is read the way the import page reads uploads: in a child process with a CPU-time limit
(`isolate.read_table(..., seconds=LIMIT)`). A reader that were quadratic again would hit the limit and
the test would see the timeout message instead of the refusal it expects.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from helpers import SHEET_HEAD, SHEET_TAIL, WORKBOOK, WORKBOOK_RELS, workbook

from examdash.importers import isolate, reading
from examdash.importers.kinds import KINDS

LIMIT = 5  # seconds of CPU a hostile file may take to be refused
REG = KINDS["registrations"]


def refused(path: Path, **limits) -> str:
    with pytest.raises(reading.ReadError) as caught:
        isolate.read_table(path, REG.alias_map, REG.required, **({"seconds": LIMIT} | limits))
    message = str(caught.value)
    assert "超过" not in message or "秒" not in message, f"hit the time limit: {message}"
    return message


def test_a_sheet_of_unclosed_cell_tags_is_refused_in_linear_time(tmp_path):
    # 4 KB compressed, 600 KB of "<c ": the old pattern rescanned to the end from every tag (minutes).
    path = workbook(tmp_path / "bait.xlsx", SHEET_HEAD + b"<c " * 200_000)
    assert path.stat().st_size < 20_000
    message = refused(path)
    assert "xlsx" in message or "表头" in message


@pytest.mark.parametrize("part", ["book", "rels"])
def test_unclosed_sheet_and_relationship_tags_are_refused_in_linear_time(tmp_path, part):
    bait = b"<sheet " * 200_000 if part == "book" else b"<Relationship " * 100_000
    path = workbook(tmp_path / f"{part}.xlsx", SHEET_HEAD + SHEET_TAIL,
                    **({"book": WORKBOOK[:-20] + bait} if part == "book" else {"rels": WORKBOOK_RELS[:-20] + bait}))
    refused(path)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    cell = b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + b"A" * (64 << 20) + b"</t></is></c></row>"
    path = workbook(tmp_path / "bomb.xlsx", SHEET_HEAD + cell + SHEET_TAIL)
    assert path.stat().st_size < 200_000  # 64 MB in a small file
    message = refused(path)
    assert "压缩炸弹" in message and "sheet1.xml" in message
    with zipfile.ZipFile(path) as zf, pytest.raises(reading.ReadError):
        reading.check_unpacked_sizes(zf)  # from the directory alone: nothing was unpacked


@pytest.mark.parametrize("header", ["(" * 130_000, "（" * 130_000, "(" * 1_000_000, "身份证号" + "x" * 5_000_000])
def test_a_huge_or_bracketed_header_is_refused_in_linear_time(tmp_path, header):
    # "((((…": the old bracket pattern in the header normaliser rescanned to the end from every "(".
    path = tmp_path / "header.csv"
    path.write_text(f"{header},姓名,级别\n110105199001010011,张三,初级\n", encoding="utf-8")
    if len(header) > 131_072:  # beyond what the csv module takes in a cell: refused as such
        assert "131,072 个字符" in refused(path)
        return
    raw = isolate.read_table(path, REG.alias_map, REG.required, seconds=LIMIT)  # read, within the limit
    assert set(raw.columns) == {"name", "level"} and raw.unmapped == [header]


def test_a_huge_cell_is_an_error_on_its_row_not_a_stall(empty_db, tmp_path, demo_frames):
    from examdash.importers import import_file

    regs = demo_frames["registrations"]["2023-2"].head(3).copy()
    regs.iloc[1, regs.columns.get_loc("姓名")] = "张" * 100_000
    path = tmp_path / "报名.csv"
    regs.to_csv(path, index=False, encoding="utf-8-sig")
    result = import_file(empty_db, "registrations", path, isolated=True)
    assert not result.ok
    long = [i for i in result.errors if "过长" in i.message]
    assert [(i.row, i.column) for i in long] == [(3, "姓名")] and len(long[0].message) < 400
    assert all(len(line) < 1000 for line in result.lines())


def test_a_reader_out_of_memory_fails_alone_with_a_message(demo_file):
    _, path, _ = demo_file("registrations", "2023-1")
    message = refused(path, memory_mb=64)
    assert "内存" in message and "64" in message


def test_a_good_upload_reads_the_same_in_the_child(demo_file):
    _, path, _ = demo_file("registrations", "2023-1")
    here = reading.read_table(path, REG.alias_map, REG.required)
    there = isolate.read_table(path, REG.alias_map, REG.required, seconds=LIMIT * 6)
    assert there.row_numbers == here.row_numbers and there.header_row == here.header_row
    assert list(there.columns) == list(here.columns)
    for f in here.columns:
        assert there.columns[f].tolist() == here.columns[f].tolist(), f
