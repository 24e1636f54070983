"""Shared fixtures: the seeded demo exports, a demo database built from them through the importers,
per-test copies of it, the app on a copy (AppTest), and the deferred downloads a page registers.
Helpers that are not fixtures are in helpers.py.

Every row of test data comes from examdash.demo (seed 20230527), never from data/.
"""

from __future__ import annotations

from pathlib import Path

import analytics_expected as ex
import pytest
from helpers import DEMO_CANDIDATES, DEMO_SEED, copy_db, sha256_file, table_snapshot

from examdash import demo
from examdash.importers import import_file
from examdash.store import db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(name="table_snapshot")
def _table_snapshot_fixture():
    """The table_snapshot helper, for tests that prefer a fixture to an import from conftest."""
    return table_snapshot


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
    path = tmp_path_factory.mktemp("demo_db") / "demo.ducklake"
    con = _build_db(path, demo_files, pin=True)
    try:
        demo.finish(con, path, seed=DEMO_SEED)
    finally:
        con.close()
    digest = sha256_file(path)
    yield path
    assert sha256_file(path) == digest, (
        f"a test modified the shared demo database {path}; write to a copy (fresh_db) instead"
    )


@pytest.fixture(scope="module")
def demo_ro(demo_db_path):
    """A read-only connection to the shared demo database, one per test module."""
    con = db.connect(demo_db_path, read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def cand(demo_files):
    """One row per valid demo registration with its school, site, sign-in, scores and verdict (pandas),
    computed from the demo files by hand."""
    return ex.candidates(demo_files)


@pytest.fixture
def fresh_db_path(demo_db_path, tmp_path) -> Path:
    """A private copy of the demo database file (not opened)."""
    return copy_db(demo_db_path, tmp_path / "demo_copy.ducklake")


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
    path = tmp_path_factory.mktemp("empty_db") / "empty.ducklake"
    con = _build_db(path, [f for f in demo_files if f[0] in ("schools", "sites")])
    con.close()
    return path


@pytest.fixture
def empty_db_path(empty_db_template, tmp_path) -> Path:
    return copy_db(empty_db_template, tmp_path / "empty.ducklake")


@pytest.fixture
def empty_db(empty_db_path):
    con = db.connect(empty_db_path)
    yield con
    con.close()


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




@pytest.fixture(scope="session")
def app_db_path(demo_db_path, tmp_path_factory) -> Path:
    """A session copy of the demo database for the app (logins write to its audit log)."""
    return copy_db(demo_db_path, tmp_path_factory.mktemp("appdb") / "app.ducklake")


@pytest.fixture()
def app_env(app_db_path, monkeypatch):
    """Run AppTest from the repo root against the app database."""
    import streamlit as st

    monkeypatch.setenv("EXAMDASH_DB", str(app_db_path))
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    yield app_db_path


@pytest.fixture()
def demo_db_con(app_env):
    """A connection to the same database file the app uses (same process, same DuckDB instance)."""
    con = db.connect(app_env)
    yield con
    con.close()


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL is missing: `make test` installs Debian's postgresql package (apt-get install postgresql)")
    return found[-1].parent


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of its own: a new cluster in a temp folder on a free port (run as the
    `postgres` user when the tests run as root, which initdb refuses), stopped and removed afterwards.
    Yields a URL; each test that needs a database of its own creates one (postgres_db)."""
    import os
    import shutil
    import socket
    import subprocess
    import tempfile

    bindir = _pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="examdash-pg-"))
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(folder, "postgres")
    run = lambda *cmd: subprocess.run((["runuser", "-u", "postgres", "--"] if as_root else []) + [str(c) for c in cmd],
                                      check=True, capture_output=True, text=True, cwd=folder)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run(bindir / "initdb", "-D", folder / "cluster", "-U", "examdash", "--auth=trust", "-E", "UTF8")
    run(bindir / "pg_ctl", "-D", folder / "cluster", "-l", folder / "server.log", "-w", "start",
        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1")
    try:
        run(bindir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "examdash", "examdash")
        yield f"postgresql://examdash@127.0.0.1:{port}/examdash"
    finally:
        run(bindir / "pg_ctl", "-D", folder / "cluster", "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_db(postgres, tmp_path, monkeypatch):
    """A new, empty database on the session's PostgreSQL server, with a data path of its own: the URL of a
    DuckLake store on a PostgreSQL catalog (EXAMDASH_DATA_PATH set)."""
    import uuid

    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(postgres, autocommit=True) as c:
        c.execute(f"create database {name}")  # a name made here, not input
    monkeypatch.setenv("EXAMDASH_DATA_PATH", str(tmp_path / "lake_data"))
    return postgres.rsplit("/", 1)[0] + "/" + name
