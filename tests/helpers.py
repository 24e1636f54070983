"""What tests share besides fixtures (tests/conftest.py has those): reading the database, writing export
files the way the demo does, ID numbers, and running pages as a user (AppTest)."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from examdash import demo, web
from examdash.domain import auth, ids
from examdash.store import db, lake

ROOT = Path(__file__).resolve().parent.parent
BATCH = "2023-1"  # the demo's batch in its publicity week
DEMO_SEED = 20230527
DEMO_CANDIDATES = 6000


def sha256_file(path: Path) -> str:
    """A digest of a store: the file, or a DuckLake's catalog and every file of its data folder."""
    h = hashlib.sha256(Path(path).read_bytes())
    files = Path(str(path) + ".files")
    if files.is_dir():
        for f in sorted(p for p in files.rglob("*") if p.is_file()):
            h.update(str(f.relative_to(files)).encode() + f.read_bytes())
    return h.hexdigest()


def copy_db(src: Path, dst: Path) -> Path:
    """Copy a closed store (a DuckLake's catalog and data folder, or a DuckDB file and its WAL)."""
    return lake.copy_store(src, dst)


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


def rows(con, sql: str, params: dict | None = None) -> list[tuple]:
    cur = con.cursor()
    try:
        return cur.execute(sql, params or {}).fetchall()
    finally:
        cur.close()


def scalar(con, sql: str, params: dict | None = None):
    return rows(con, sql, params)[0][0]


def app_rows(con, sql: str, params: dict | None = None) -> list[tuple]:
    """Rows of the store's application database (web_sessions, throttle, request_events: what every request
    writes, outside the lake), with $name parameters like the lake's SQL. Times come back as datetimes."""
    import datetime as _dt

    found = db.app(con).rows(re.sub(r"\$([a-z_][a-z0-9_]*)", r":\1", sql), params or {})

    def value(v):
        if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", v):
            return _dt.datetime.fromisoformat(v)
        return v

    return [tuple(value(v) for v in r) for r in found]


def app_scalar(con, sql: str, params: dict | None = None):
    return app_rows(con, sql, params)[0][0]


def lake_snapshots(con) -> int:
    """How many snapshots the lake has (every lake commit adds one)."""
    return int(scalar(con, "select count(*) from lake.snapshots()"))


def find_line(result, row: int, column: str, fragment: str = "") -> str:
    """The report line for (file, row, column) containing `fragment` (an error, or a warning with
    its "警告 " mark); fails showing the whole report."""
    prefix = f"{result.file_name}:{row}:{column}: "
    hits = [line for line in result.lines()
            if line.removeprefix("警告 ").startswith(prefix) and fragment in line]
    assert hits, f"no line starting {prefix!r} containing {fragment!r} in:\n" + "\n".join(result.lines())
    return hits[0]


def click_download(deferred: dict, button) -> bytes:
    """What clicking a download button serves: its deferred callable run. A page must carry no ready file."""
    assert button.proto.deferred_file_id and not button.proto.url, f"{button.key} carries a ready file"
    return deferred[button.proto.deferred_file_id]()


def held_until(release: threading.Event, make_work):
    """make_work(...) for a background job whose work waits for `release` before it starts (a job that
    is still running while the test clicks around)."""
    def make(*args):
        work = make_work(*args)

        def run(progress):
            progress(0.1, "等待放行")
            release.wait(60)
            return work(progress)

        return run

    return make


def wait_job(at: AppTest, key: str, timeout: float = 180) -> AppTest:
    """Wait for this session's background job `key` (web.start_job) and run the page again."""
    from examdash import web

    job = at.session_state[web.JOBS_KEY][key]
    deadline = time.monotonic() + timeout
    while not job.done:
        assert time.monotonic() < deadline, f"job {key} not done after {timeout} s"
        threading.Event().wait(0.1)
    return at.run()


def finish_file_job(at: AppTest, key: str, timeout: float = 180):
    """Click a background file's 生成 button, wait for its job (a worker thread and a child process) and
    rerun the page: the download button it then shows."""
    from examdash import web

    at.button(key=f"{key}_start").click().run()
    wait_job(at, key, timeout)
    job = at.session_state[web.JOBS_KEY][key]
    assert not job.error, job.error
    return next(b for b in at.get("download_button") if b.key == key)


def own_password(username: str) -> str:
    return f"Own-{username}-2024"


def retire_demo_passwords(con) -> None:
    """Give the demo's accounts passwords of their own (own_password), as whoever takes the demo store
    for real data must: a store whose accounts still have the published passwords takes no imports."""
    demo.retire_published_passwords(con, own_password, "test")



# --- pages -----------------------------------------------------------------------------------------------


def demo_password(username: str) -> str:
    return demo.DEMO_PASSWORD["school" if username.startswith("school") else "site" if username.startswith("site")
                              else username]


def login(at: AppTest, username: str, password: str | None = None) -> AppTest:
    """Sign in through app.py's login form."""
    at.text_input(key="login_username").set_value(username)
    at.text_input(key="login_password").set_value(password or demo_password(username))
    at.button(key="login_submit").click().run()
    return at


def app_as(username: str, stem: str | None = None) -> AppTest:
    """app.py after its login form, then (with a page's stem or script) the page from the role's menu."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    login(at, username)
    assert not at.exception, at.exception
    if stem:
        at.switch_page(f"app_pages/{Path(stem).stem}.py").run()
        assert not at.exception, at.exception
    return at


def sign_in(con, username: str) -> auth.User:
    """The account as the login form would sign it in (its demo password checked)."""
    return auth.authenticate(con, username, demo_password(username))


def page_as(stem: str, user, con=None, batch: str | None = None) -> AppTest:
    """A page script (its stem, or app_pages/<stem>.py) run on its own with a signed-in session (a User, or
    a user name read from `con`); with `batch`, picked in the shared sidebar filter afterwards."""
    if isinstance(user, str):
        user = auth.reload_user(con, user)
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{Path(stem).stem}.py"), default_timeout=60)
    at.session_state[web.USER_KEY] = user
    at.session_state[web.SEEN_KEY] = time.monotonic()
    at.run()
    if batch and any(s.key == "filters_batch" for s in at.selectbox):
        if at.selectbox(key="filters_batch").value != batch:
            at.selectbox(key="filters_batch").set_value(batch).run()
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def keys_of(elements) -> set[str]:
    return {e.key for e in elements}


def table(at: AppTest, *columns: str) -> pd.DataFrame:
    """The one displayed table with these columns (st.dataframe carries no key in AppTest); among several,
    the one whose headers start with them."""
    hits = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    if len(hits) > 1:
        hits = [h for h in hits if list(h.columns[: len(columns)]) == list(columns)] or hits
    assert len(hits) == 1, f"{len(hits)} tables with columns {columns}: {[list(d.value.columns) for d in at.dataframe]}"
    return hits[0]


# --- the command line, and hand-made workbooks -----------------------------------------------------------


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXAMDASH_")}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_cli(db_path: Path, *args, prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    cmd = (prefix or [sys.executable, "-m", "examdash"]) + ["--db", str(db_path), *map(str, args)]
    return subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, encoding="utf-8", timeout=120)



CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                 b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                 b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
                 b'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                 b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                 b'officedocument.spreadsheetml.worksheet+xml"/></Types>')


ROOT_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
             b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
             b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')


WORKBOOK = (b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
            b'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="'
            b'Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')


WORKBOOK_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
                 b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
                 b'2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
              b'2006/main"><sheetData>')


SHEET_TAIL = b"</sheetData></worksheet>"


def workbook(path: Path, sheet: bytes, book: bytes = WORKBOOK, rels: bytes = WORKBOOK_RELS) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", ROOT_RELS)
        zf.writestr("xl/workbook.xml", book)
        zf.writestr("xl/_rels/workbook.xml.rels", rels)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return path
