"""Hostile uploads fail alone and fast: regex bait, zip bombs (honest or falsified sizes), a huge header,
a reader out of memory.

Each file is read the way the import page reads uploads: in a child process with a CPU-time limit
(`isolate.read_table(..., seconds=LIMIT)`). A reader that were quadratic again would hit the limit and
the test would see the timeout message instead of the refusal it expects.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from helpers import CONTENT_TYPES, ROOT_RELS, SHEET_HEAD, SHEET_TAIL, WORKBOOK, WORKBOOK_RELS, workbook

from examdash import config
from examdash.importers import import_file, isolate, reading
from examdash.importers.kinds import KINDS
from examdash.store import db

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


def _deflate(data: bytes, mode: int = zlib.Z_FINISH) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush(mode)


def _deflated(head: bytes, unit: bytes, times: int, tail: bytes) -> bytes:
    """A raw deflate stream of head + unit * times + tail, in the time it takes to compress the unit once:
    each piece ends on a full flush (nothing after it refers back), so the unit's bytes can be repeated."""
    return _deflate(head, zlib.Z_FULL_FLUSH) + _deflate(unit, zlib.Z_FULL_FLUSH) * times + _deflate(tail)


def _zip_by_hand(path: Path, members: list[tuple[str, bytes, int]], *, alias: tuple[str, str] | None = None) -> Path:
    """A zip of (name, raw deflate stream, declared unpacked size), the same size in the local and the
    central header; alias (new name, member) adds a directory entry that points at the member's data. The
    CRCs are left 0: nothing here is meant to be read far enough to check one."""
    body, central, offsets = bytearray(), bytearray(), {}
    entries = [(name, data, size, None) for name, data, size in members]
    if alias is not None:
        entries.append((alias[0], *next((d, n) for m, d, n in members if m == alias[1]), alias[1]))
    for name, data, size, same_as in entries:
        raw = name.encode()
        if same_as is None:
            offsets[name] = len(body)
            body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, zlib.crc32(b""), len(data), size,
                                len(raw), 0) + raw + data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, zlib.crc32(b""), len(data), size,
                               len(raw), 0, 0, 0, 0, 0, offsets[same_as or name]) + raw
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(body), 0)
    path.write_bytes(bytes(body + central + end))
    return path


def _bomb_with_falsified_sizes(path: Path, megabytes: int = 3000) -> Path:
    """A registrations workbook whose sheet unpacks to `megabytes` of rows while both its headers say 1,000 bytes."""
    header = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in ("身份证号", "姓名", "级别"))
    row = b'<row><c t="inlineStr"><is><t>' + b"A" * 1000 + b"</t></is></c></row>"
    sheet = _deflated(SHEET_HEAD + f"<row>{header}</row>".encode(), row * 1000, megabytes, SHEET_TAIL)
    parts = [("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS), ("xl/workbook.xml", WORKBOOK),
             ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)]
    return _zip_by_hand(path, [(n, _deflate(d), len(d)) for n, d in parts] + [("xl/worksheets/sheet1.xml", sheet, 1000)])


def test_a_zip_bomb_with_falsified_sizes_is_refused_while_it_is_unpacked(tmp_path):
    # 3 GB of rows in a few MB, declared as 1,000 bytes: the directory's sizes look harmless, and
    # the readers (calamine unpacks the zip itself) used to go on until the child's memory limit.
    path = _bomb_with_falsified_sizes(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 10 << 20
    with zipfile.ZipFile(path) as zf:
        reading.check_unpacked_sizes(zf)  # what the directory says passes
        assert max(i.file_size for i in zf.infolist()) == 1000
    message = refused(path)
    assert "「xl/worksheets/sheet1.xml」解压后超过 1,000 字节" in message and "压缩炸弹" in message
    assert "内存" not in message


def _written(con) -> tuple:
    """What an import that got through would have changed (helpers.table_snapshot takes 2.5 s here)."""
    counts = db.rows(con, "select (select count(*) from registrations), (select count(*) from import_log), "
                          "(select count(*) from audit_log)")[0]
    return db.data_version(con), counts


@pytest.mark.parametrize("isolated", [True, False], ids=["child", "in-process"])
def test_a_zip_bomb_with_falsified_sizes_is_refused_by_the_import_and_writes_nothing(
        tmp_path, empty_db, empty_db_path, isolated):
    # In this process nothing limits memory: a smaller bomb, so that a broken check fails the test, not the machine.
    path = _bomb_with_falsified_sizes(tmp_path / "报名_2023-2.xlsx", 3000 if isolated else 200)
    before = _written(empty_db)
    result = import_file(empty_db, "registrations", path, actor="admin", db_file=empty_db_path,
                         file_name="报名_2023-2.xlsx", isolated=isolated)
    assert not result.ok and not result.written and result.import_id is None
    summary = result.summary()
    assert summary.startswith("报名_2023-2.xlsx（") and "解压后超过 1,000 字节" in summary and "未写入任何数据" in summary
    assert "内存" not in summary and "秒" not in summary
    assert [line.split(": ", 1)[0] for line in result.lines()] == ["报名_2023-2.xlsx:-:-"]
    assert _written(empty_db) == before
    kept = config.imports_dir(empty_db_path)
    assert not kept.exists() or not any(kept.iterdir())  # the refused original is not kept either


def _declare_size(path: Path, member: str, size: int) -> None:
    """Patch the unpacked size `member` declares, in its local header and in the central directory."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        local, at = zf.getinfo(member).header_offset, zf.start_dir
    struct.pack_into("<L", data, local + 22, size)
    while data[at:at + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack_from("<3H", data, at + 28)
        if data[at + 46:at + 46 + n] == member.encode():
            struct.pack_into("<L", data, at + 24, size)
        at += 46 + n + m + k
    path.write_bytes(bytes(data))


def test_a_real_workbook_whose_sheet_declares_less_than_it_holds_is_refused(demo_file, tmp_path):
    _, original, _ = demo_file("registrations", "2023-1")
    path = tmp_path / original.name
    path.write_bytes(original.read_bytes())
    with zipfile.ZipFile(path) as zf:
        reading.check_inflated_sizes(path, zf)  # the export as written passes
        size = zf.getinfo("xl/worksheets/sheet1.xml").file_size
    _declare_size(path, "xl/worksheets/sheet1.xml", size // 2)
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size == size // 2
    with pytest.raises(reading.ReadError, match="「xl/worksheets/sheet1.xml」解压后超过"):
        reading.read_table(path, REG.alias_map, REG.required)


def test_every_demo_workbook_passes_the_unpacking_check(demo_files):
    for _, path, _ in demo_files:
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as zf:
                reading.check_inflated_sizes(path, zf)


def test_parts_that_share_their_data_are_refused(tmp_path):
    # One stored bomb listed under many names (each entry's own size honest) would be unpacked once per name.
    sheet = SHEET_HEAD + SHEET_TAIL
    parts = [("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS), ("xl/workbook.xml", WORKBOOK),
             ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS), ("xl/worksheets/sheet1.xml", sheet)]
    path = _zip_by_hand(tmp_path / "overlap.xlsx", [(n, _deflate(d), len(d)) for n, d in parts],
                        alias=("xl/worksheets/sheet2.xml", "xl/worksheets/sheet1.xml"))
    assert "相互重叠" in refused(path)


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
