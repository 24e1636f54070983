"""Shared fixtures: the seeded demo exports, a demo database built from them through the importers,
per-test copies of it, and helpers to write small export files and compare whole databases.

Every row of test data comes from examdash.demo (seed 20230527), never from data/.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from examdash import demo
from examdash.domain import ids
from examdash.importers import import_file
from examdash.store import db

ROOT = Path(__file__).resolve().parent.parent
DEMO_SEED = 20230527
DEMO_CANDIDATES = 6000


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def copy_db(src: Path, dst: Path) -> Path:
    """Copy a closed DuckDB file (and its WAL if one was left behind)."""
    shutil.copyfile(src, dst)
    wal = Path(str(src) + ".wal")
    if wal.exists():
        shutil.copyfile(wal, Path(str(dst) + ".wal"))
    return dst


def table_snapshot(con) -> dict[str, list[tuple]]:
    """{table: every row, sorted} for each base table of the main schema, to compare before/after."""
    cur = con.cursor()
    try:
        names = [r[0] for r in cur.execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "and table_type = 'BASE TABLE' and table_catalog = current_database() order by table_name"
        ).fetchall()]
        # Table names come from the catalogue, not from any input.
        return {name: cur.execute(f'select * from "{name}" order by all').fetchall() for name in names}
    finally:
        cur.close()


@pytest.fixture(name="table_snapshot")
def _table_snapshot_fixture():
    """The table_snapshot helper, for tests that prefer a fixture to an import from conftest."""
    return table_snapshot


def write_frame(frame: pd.DataFrame, path: Path, *, title: str | None = None, encoding: str = "utf-8-sig") -> Path:
    """Write an export the way the demo generator does: .xlsx (all text) or .csv in `encoding`."""
    path = Path(path)
    if path.suffix == ".xlsx":
        demo.write_xlsx(frame, path, title)
    else:
        demo.write_csv(frame, path, encoding, title=title)
    return path


def write_xlsx_cells(rows: list[list], path: Path, merge_first_row: bool = False) -> Path:
    """An .xlsx from raw cells, keeping Python types: float/int become numeric cells (as Excel
    stores a number typed into a General cell), str stays text, None stays empty."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Sheet1")
    width = max(len(r) for r in rows)
    for i, row in enumerate(rows):
        if i == 0 and merge_first_row:
            ws.merge_range(0, 0, 0, width - 1, row[0])
            continue
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(i, j, v)
            else:
                ws.write_string(i, j, str(v))
    wb.close()
    return Path(path)


def with_check_char(first17: str) -> str:
    return first17 + ids.id_check_char(first17)


def id_ending_in_x(start: int = 0) -> str:
    """A valid ID whose check character is X (the sequence number is searched from `start`)."""
    for seq in range(start, start + 2000):
        first17 = f"11010519900101{seq % 1000:03d}"
        if ids.id_check_char(first17) == "X":
            return first17 + "X"
    raise AssertionError("no X check character found")


def wrong_check_char(id_no: str) -> str:
    """The same ID with a different (wrong) check character."""
    right = id_no[17]
    return id_no[:17] + next(c for c in "0123456789X" if c != right)


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory) -> list[tuple[str, Path, str | None]]:
    out = tmp_path_factory.mktemp("demo_exports")
    return demo.generate(out, seed=DEMO_SEED, candidates=DEMO_CANDIDATES)


@pytest.fixture(scope="session")
def demo_file(demo_files):
    """demo_file(kind, batch=None) -> the demo export of that kind (and batch, named in the file)."""

    def pick(kind: str, batch: str | None = None) -> tuple[str, Path, str | None]:
        for k, path, b in demo_files:
            if k == kind and (batch is None or batch in path.name):
                return k, path, b
        raise LookupError(f"no demo file of kind {kind} batch {batch}")

    return pick


@pytest.fixture(scope="session")
def demo_world():
    return demo.make_world(DEMO_SEED)


@pytest.fixture(scope="session")
def demo_frames(demo_world):
    """The demo's registrations, attendance and scores as frames, regenerated from the same seed
    exactly as demo.generate does (test_importers checks they match the demo database)."""
    n1 = int(DEMO_CANDIDATES * 0.6)
    regs = {
        "2023-1": demo.make_registrations(demo_world, n1, "2023-1", DEMO_SEED),
        "2023-2": demo.make_registrations(demo_world, DEMO_CANDIDATES - n1, "2023-2", DEMO_SEED),
    }
    att, scores = {}, {}
    for batch in sorted(demo.sat_batches() & set(regs)):  # as demo.generate: no results before the exam day
        att[batch] = demo.make_attendance(demo_world, regs[batch], DEMO_SEED + int(batch[-1]))
        scores[batch] = demo.make_scores(demo_world, regs[batch], att[batch], batch, DEMO_SEED)
    return {"registrations": regs, "attendance": att, "scores": scores}


def _build_db(path: Path, files, pin: bool = False):
    """Import `files` in order into a new database at `path`; returns the open connection. With `pin`,
    the database's clock is pinned to the demo's day first, as `python -m examdash demo` does."""
    con = db.connect(path)
    try:
        if pin:
            demo.pin_today(con)
        for kind, file, batch in files:
            result = import_file(con, kind, file, batch=batch, actor="demo", db_file=path)
            assert result.ok, "\n".join(result.lines(limit=20))
    except BaseException:
        con.close()
        raise
    return con


@pytest.fixture(scope="session")
def demo_db_path(demo_files, tmp_path_factory) -> Path:
    """The demo database, built once through the importers. Read it (read_only=True) but never
    write to it: tests that write use fresh_db, a copy. Checked at the end of the session."""
    path = tmp_path_factory.mktemp("demo_db") / "demo.duckdb"
    con = _build_db(path, demo_files, pin=True)
    try:
        demo.finish(con, path, seed=DEMO_SEED)
    finally:
        con.close()
    digest = _sha256(path)
    yield path
    assert _sha256(path) == digest, (
        f"a test modified the shared demo database {path}; write to a copy (fresh_db) instead"
    )


@pytest.fixture
def fresh_db_path(demo_db_path, tmp_path) -> Path:
    """A private copy of the demo database file (not opened)."""
    return copy_db(demo_db_path, tmp_path / "demo_copy.duckdb")


@pytest.fixture
def private_app(fresh_db_path, monkeypatch):
    """The app (AppTest pages, web.con()) on a private copy of the demo database, for tests that write,
    and a connection to it."""
    import streamlit as st

    monkeypatch.setenv("EXAMDASH_DB", str(fresh_db_path))
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    con = db.connect(fresh_db_path)
    yield con
    con.close()


@pytest.fixture
def fresh_db(fresh_db_path):
    con = db.connect(fresh_db_path)
    yield con
    con.close()


@pytest.fixture(scope="session")
def empty_db_template(demo_files, tmp_path_factory) -> Path:
    """A database holding only the demo's schools and sites (session template, never opened again)."""
    path = tmp_path_factory.mktemp("empty_db") / "empty.duckdb"
    con = _build_db(path, [f for f in demo_files if f[0] in ("schools", "sites")])
    con.close()
    return path


@pytest.fixture
def empty_db_path(empty_db_template, tmp_path) -> Path:
    return copy_db(empty_db_template, tmp_path / "empty.duckdb")


@pytest.fixture
def empty_db(empty_db_path):
    con = db.connect(empty_db_path)
    yield con
    con.close()


def rows(con, sql: str, params: dict | None = None) -> list[tuple]:
    cur = con.cursor()
    try:
        return cur.execute(sql, params or {}).fetchall()
    finally:
        cur.close()


def scalar(con, sql: str, params: dict | None = None):
    return rows(con, sql, params)[0][0]


def find_line(result, row: int, column: str, fragment: str = "") -> str:
    """The report line for (file, row, column) containing `fragment` (an error, or a warning with
    its "警告 " mark); fails showing the whole report."""
    prefix = f"{result.file_name}:{row}:{column}: "
    hits = [line for line in result.lines()
            if line.removeprefix("警告 ").startswith(prefix) and fragment in line]
    assert hits, f"no line starting {prefix!r} containing {fragment!r} in:\n" + "\n".join(result.lines())
    return hits[0]


@pytest.fixture
def deferred(monkeypatch):
    """The callables handed to st.download_button, by deferred file id: run one as Streamlit's server
    does when the button is clicked (outside the script)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    found: dict = {}
    original = MediaFileManager.add_deferred

    def spy(self, callable_, *args, **kwargs):
        file_id = original(self, callable_, *args, **kwargs)
        found[file_id] = callable_
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return found


def click_download(deferred: dict, button) -> bytes:
    """What clicking a download button serves: its deferred callable run. A page must carry no ready file."""
    assert button.proto.deferred_file_id and not button.proto.url, f"{button.key} carries a ready file"
    return deferred[button.proto.deferred_file_id]()


def own_password(username: str) -> str:
    return f"Own-{username}-2024"


def retire_demo_passwords(con) -> None:
    """Give the demo's accounts passwords of their own (own_password), as whoever takes the demo store
    for real data must: a store whose accounts still have the published passwords takes no imports."""
    from examdash.domain import auth

    for username in demo.DEMO_USERNAMES:
        if auth.reload_user(con, username) is not None:
            auth.reset_password(con, username, own_password(username), "test")
