"""Faults: a killed import, broken files, readers during an import, and backup / restore."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT, copy_db, retire_demo_passwords

from examdash import demo
from examdash.importers import import_file
from examdash.store import db


@pytest.fixture()
def db_copy(demo_db_path, tmp_path) -> Path:
    return copy_db(demo_db_path, tmp_path / "faults.ducklake")


@pytest.fixture()
def snapshot_of(table_snapshot):
    def take(path: Path) -> dict:
        con = db.connect(path)
        try:
            return table_snapshot(con)
        finally:
            con.close()
    return take


@pytest.mark.slow
def test_sigkill_in_the_middle_of_a_million_row_load_leaves_the_database_as_it_was(db_copy, tmp_path, snapshot_of):
    big = tmp_path / "报名_100万.csv"
    world = demo.make_world()
    demo.write_csv(demo.make_registrations(world, 1_000_000, "2023-2", seed=4242).assign(准考证号=""), big)
    before = snapshot_of(db_copy)
    # The child prints each stage of the import; once it is writing, it is killed without warning.
    script = textwrap.dedent(f"""
        import sys
        from examdash.store import db
        from examdash.importers import import_file
        con = db.connect({str(db_copy)!r})
        def progress(x, text):
            print(text, flush=True)
        import_file(con, "registrations", {str(big)!r}, progress=progress)
        print("finished", flush=True)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    seen = []
    for line in child.stdout:
        seen.append(line.strip())
        if line.startswith("写入数据库"):
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(timeout=120)
    assert child.returncode == -signal.SIGKILL, seen
    assert "finished" not in seen
    assert snapshot_of(db_copy) == before  # and the next open works (it just did, twice)


def _broken_files(folder: Path) -> dict[str, Path]:
    good = folder / "good.xlsx"
    demo.write_xlsx(demo.make_registrations(demo.make_world(), 200, "2023-1", seed=5), good)
    data = good.read_bytes()
    files = {
        "truncated.xlsx": data[: len(data) // 2],
        "empty.csv": b"",
        "empty.xlsx": b"",
        "garbage.xlsx": os.urandom(50 * 1024 * 1024),
        "garbage.csv": os.urandom(50 * 1024 * 1024),
        "utf16.csv": "考试批次,身份证号,级别,姓名\r\n2023-1,11010519491231002X,初级,张三\r\n".encode("utf-16"),
        "latin1.csv": "Batch;Name\r\n2023-1;M\xfcller\r\n".encode("latin-1"),
        "picture.png": b"\x89PNG\r\n\x1a\n" + os.urandom(1000),
    }
    out = {}
    for name, content in files.items():
        (folder / name).write_bytes(content)
        out[name] = folder / name
    corrupt = folder / "corrupt.xlsx"
    with zipfile.ZipFile(corrupt, "w") as z:
        z.writestr("[Content_Types].xml", "<not really>")
    out["corrupt.xlsx"] = corrupt
    return out


def test_broken_files_get_a_clear_message_and_change_nothing(db_copy, tmp_path, table_snapshot):
    con = db.connect(db_copy)
    before = table_snapshot(con)
    for name, path in _broken_files(tmp_path).items():
        result = import_file(con, "registrations", path, actor="test", db_file=db_copy)
        assert not result.ok, name
        message = result.errors[0].line(result.file_name)
        assert name in message and any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    # a file of the wrong kind: a scores export imported as sites
    world = demo.make_world()
    regs = demo.make_registrations(world, 50, "2023-1", 1)
    wrong = tmp_path / "成绩.csv"
    demo.write_csv(demo.make_scores(world, regs, demo.make_attendance(world, regs, 1), "2023-1", 1), wrong)
    result = import_file(con, "sites", wrong, actor="test", db_file=db_copy)
    assert not result.ok and ("表头" in result.errors[0].message or "缺少" in result.errors[0].message)
    assert table_snapshot(con) == before
    con.close()


def test_the_cli_reports_a_broken_file_and_exits_1(db_copy, tmp_path):
    con = db.connect(db_copy)
    retire_demo_passwords(con)
    con.close()
    path = _broken_files(tmp_path)["truncated.xlsx"]
    r = subprocess.run([sys.executable, "-m", "examdash", "--db", str(db_copy), "import", "registrations", str(path)],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 1 and "truncated.xlsx" in r.stderr and "xlsx" in r.stderr


def test_readers_never_see_half_an_import(db_copy, tmp_path):
    con = db.connect(db_copy)
    extra = tmp_path / "extra.csv"
    rows = demo.make_registrations(demo.make_world(), 50_000, "2023-2", seed=99).assign(准考证号="")
    demo.write_csv(rows, extra)

    def count():
        cur = con.cursor()
        try:
            # one statement, one snapshot: both tables as one reader sees them at one moment
            return cur.execute(
                "select (select count(*) from registrations), (select count(*) from results)").fetchall()[0]
        finally:
            cur.close()

    before = count()
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("r", import_file(con, "registrations", extra, actor="t")))
    worker.start()
    seen = set()
    while worker.is_alive():
        seen.add(count())
    worker.join()
    after = count()
    assert outcome["r"].ok and outcome["r"].added == len(rows)
    assert seen <= {before, after}, seen
    assert after[0] == before[0] + len(rows)
    con.close()


def test_backup_and_restore_round_trip_every_table(db_copy, tmp_path, snapshot_of):
    backup = tmp_path / "backup"
    run = lambda *args: subprocess.run([sys.executable, "-m", "examdash", *args], cwd=ROOT, capture_output=True, text=True)
    r = run("--db", str(db_copy), "backup", str(backup))
    assert r.returncode == 0, r.stderr
    restored = tmp_path / "restored.ducklake"
    r = run("--db", str(restored), "restore", str(backup))
    assert r.returncode == 0, r.stderr
    original, copy = snapshot_of(db_copy), snapshot_of(restored)
    assert set(original) == set(copy) and len(original) >= 20
    for table in set(original) - {"audit_log", "meta", "schema_migrations", "id_counters"}:
        assert original[table] == copy[table], table
    assert [r[0] for r in copy["schema_migrations"]] == [r[0] for r in original["schema_migrations"]]
    # the restore is one more audited event; the data version moved on (every cache rebuilds)
    assert copy["audit_log"][:-1] == original["audit_log"]
    assert copy["audit_log"][-1][2:4] == ("命令行", "restore")
    version = lambda rows: [r for r in rows if r[0] == "data_version"]
    assert [r for r in copy["meta"] if r not in version(copy["meta"])] == [r for r in original["meta"] if r not in version(original["meta"])]
    assert int(version(copy["meta"])[0][1]) > int(version(original["meta"])[0][1])
    # restoring over an existing database needs --force; a backup folder must hold a backup
    assert run("--db", str(restored), "restore", str(backup)).returncode == 2
    assert run("--db", str(restored), "restore", str(tmp_path)).returncode == 2
    # the restored database keeps working: sequences continue, imports still go in
    con = db.connect(restored)
    max_id = con.execute("select max(import_id) from import_log").fetchall()[0][0]
    extra = tmp_path / "more.csv"
    demo.write_csv(demo.make_registrations(demo.make_world(), 10, "2023-2", seed=3).assign(准考证号=""), extra)
    assert import_file(con, "registrations", extra, actor="t").import_id == max_id + 1
    con.close()
    shutil.rmtree(backup)


def test_a_bom_file_with_invalid_utf8_gets_a_message(db_copy, tmp_path):
    path = tmp_path / "坏编码.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "考试批次,身份证号,级别,姓名\r\n2023-1,".encode("utf-8") + b"\xff\xfe\r\n")
    con = db.connect(db_copy)
    result = import_file(con, "registrations", path, actor="test")
    con.close()
    assert not result.ok and "UTF-8" in result.errors[0].message and "坏编码.csv" in result.errors[0].line(result.file_name)
