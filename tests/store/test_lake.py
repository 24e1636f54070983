"""The store as a DuckLake: several processes at once, the mirror, ids and keys, and the conversion of a
DuckDB file. (Two real app servers, and the PostgreSQL catalog, are in tests/browser/test_many_processes.py.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import (
    ROOT,
    copy_db,
    metrics,
    own_password,
    page_as,
    retire_demo_passwords,
    rows,
    run_cli,
    scalar,
    table_snapshot,
)

from examdash import demo
from examdash.domain import auth
from examdash.store import db, lake, mirror, queries


@pytest.fixture()
def real_store(demo_db_path, tmp_path) -> Path:
    """A copy of the demo lake whose accounts have passwords of their own (a store that takes imports)."""
    path = copy_db(demo_db_path, tmp_path / "real.ducklake")
    con = db.connect(path)
    try:
        retire_demo_passwords(con)
    finally:
        con.close()
    return path


def _extra_registrations(con, path: Path, n: int = 7) -> tuple[str, Path]:
    """n new registrations of the batch the overview shows first, as a platform export."""
    batch = rows(con, "select batch_code from batches order by exam_date desc limit 1")[0][0]
    frame = demo.make_registrations(demo.make_world(), n, batch, seed=777).assign(准考证号="")
    demo.write_csv(frame, path)
    return batch, path


def test_the_command_line_imports_while_the_app_holds_the_store_and_the_app_shows_it_at_its_next_run(
        real_store, tmp_path, monkeypatch):
    import streamlit as st

    monkeypatch.setenv("EXAMDASH_DB", str(real_store))
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    con = db.connect(real_store)  # the app process's connection stays open throughout
    batch, extra = _extra_registrations(con, tmp_path / "报名补录.csv")
    at = page_as("overview", auth.authenticate(con, "staff", own_password("staff")), con, batch=batch)
    before = int(metrics(at)["报名人数"].replace(",", ""))

    done = run_cli(real_store, "import", "registrations", extra, "--user", "cli")
    assert done.returncode == 0, done.stderr
    assert "新增 7" in done.stdout

    at.run()
    assert not at.exception
    assert int(metrics(at)["报名人数"].replace(",", "")) == before + 7
    assert rows(con, "select imported_by, added from import_log order by import_id desc limit 1") == [("cli", 7)]
    con.close()


_WRITER = textwrap.dedent("""
    import sys, threading
    from pathlib import Path
    from examdash.store import db
    path, who, n, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    con = db.connect(path)
    while not start.exists():  # both writers begin together
        threading.Event().wait(0.005)
    for i in range(n):
        with db.transaction(con) as cur:
            db.audit(cur, who, "lake_test", str(i))
            db.bump_version(cur)
    con.close()
""")


def test_two_processes_write_at_the_same_time_and_every_id_is_given_once(real_store, tmp_path):
    start = tmp_path / "go"
    children = [subprocess.Popen([sys.executable, "-c", _WRITER, str(real_store), who, "40", str(start)], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for who in ("a", "b")]
    con = db.connect(real_store, read_only=True)
    version = db.data_version(con)
    start.touch()
    reads = 0
    while any(c.poll() is None for c in children):  # a reader beside the two writers never waits nor fails
        assert db.data_version(con) >= version
        reads += 1
    for c in children:
        out, err = c.communicate()
        assert c.returncode == 0, err
    ids = [r[0] for r in rows(con, "select audit_id from audit_log where action = 'lake_test'")]
    assert len(ids) == 80 and len(set(ids)) == 80
    assert len(rows(con, "select audit_id from audit_log")) == len(set(rows(con, "select audit_id from audit_log")))
    assert reads > 0 and db.data_version(con) > version
    con.close()


_CREATE_USER = textwrap.dedent("""
    import sys, threading
    from pathlib import Path
    from examdash.domain import auth
    from examdash.store import db
    path, start = sys.argv[1], Path(sys.argv[2])
    con = db.connect(path)
    while not start.exists():
        threading.Event().wait(0.005)
    try:
        auth.create_user(con, "twice", "两次", "staff", "Twice-pass-2024", actor="test")
        print("created")
    except auth.AuthError as exc:
        print("refused", exc)
""")


def test_an_account_created_by_two_processes_at_once_exists_once(real_store, tmp_path):
    """users.username has no unique index in a lake: the check and the insert run under the write lock."""
    start = tmp_path / "go"
    children = [subprocess.Popen([sys.executable, "-c", _CREATE_USER, str(real_store), str(start)], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    start.touch()
    outcomes = sorted(c.communicate()[0].split()[0] for c in children)
    assert outcomes == ["created", "refused"]
    con = db.connect(real_store, read_only=True)
    assert scalar(con, "select count(*) from users where username = 'twice'") == 1
    con.close()


def test_the_mirror_answers_as_the_lake_does_and_follows_a_write(real_store, monkeypatch):
    monkeypatch.setenv("EXAMDASH_MIRROR", "wait")
    con = db.connect(real_store)
    version = db.data_version(con)
    batch = rows(con, "select batch_code from batches order by exam_date desc limit 1")[0][0]
    for name, params in (("pass_rates_by_school", {"batch": batch}), ("registrations_by_site", {"batch": batch}),
                         ("fee_totals", {"batch": batch}), ("candidate_scores", {"batch": batch, "limit": 50}),
                         # a table macro of the lake (certificate_schools), made again in the mirror
                         ("certificate_status", {"batch": "2023-1", "today": "2023-06-20"}),
                         ("paper_certificates", {"batch": "2023-1", "today": "2023-06-20"}),
                         ("attendance_exceptions", {"batch": "2023-1"})):
        live = queries.run(con, name, params)
        mirrored = queries.run(con, name, params, version=version)
        assert mirrored.equals(live), name
        assert len(live) > 0, name
    cur = mirror.cursor(con, version)
    assert cur.execute("select current_database()").fetchall()[0][0].startswith(mirror.PREFIX)
    cur.close()
    with db.transaction(con) as w:
        w.execute("update results set name = '镜像甲' where batch_code = $b and ticket_no = "
                  "(select min(ticket_no) from results where batch_code = $b)", {"b": batch})
        db.bump_version(w)
    after = db.data_version(con)
    assert after > version
    old = queries.run(con, "candidate_scores", {"batch": batch, "limit": 100000}, version=version)
    new = queries.run(con, "candidate_scores", {"batch": batch, "limit": 100000}, version=after)
    assert "镜像甲" not in set(old.name) and "镜像甲" in set(new.name)
    con.close()


def test_a_duckdb_file_is_converted_into_the_lake(demo_files, tmp_path):
    """The store before DuckLake was one DuckDB file: `convert` copies it into a lake in one transaction."""
    from examdash.importers import import_file

    old = tmp_path / "exam.duckdb"
    con = db.connect(old)
    assert not db.store_of(con).is_lake
    for kind, path, batch in demo_files:
        if kind in ("schools", "sites", "registrations", "attendance", "scores"):
            assert import_file(con, kind, path, batch=batch, actor="old", db_file=old).ok
    auth.create_user(con, "keeper", "旧账号", "staff", "Keeper-pass-2024", actor="old")
    before = table_snapshot(con)
    con.close()

    target = tmp_path / "exam.ducklake"
    done = run_cli(target, "convert", old)
    assert done.returncode == 0, done.stderr
    assert "已把" in done.stdout and f"{len(before['registrations']):,} 行" in done.stdout
    con = db.connect(target)
    after = table_snapshot(con)
    assert db.store_of(con).is_lake
    for name in set(before) - {"audit_log", "meta", "schema_migrations", "id_counters", "web_sessions"}:
        assert after[name] == before[name], name
    assert after["audit_log"][:-1] == before["audit_log"] and after["audit_log"][-1][3] == "convert"
    assert auth.authenticate(con, "keeper", "Keeper-pass-2024").username == "keeper"
    con.close()

    again = run_cli(target, "convert", old)
    assert again.returncode != 0 and "已有数据" in again.stderr
    not_duckdb = tmp_path / "not.duckdb"
    not_duckdb.write_text("这不是数据库")
    bad = run_cli(tmp_path / "other.ducklake", "convert", not_duckdb)
    assert bad.returncode != 0 and "无法打开要转换的数据库文件" in bad.stderr
    # and the converted lake takes new ids after the old ones
    con = db.connect(target)
    with db.transaction(con) as cur:
        assert db.next_id(cur, "import_log") == max(r[0] for r in before["import_log"]) + 1
    con.close()


def test_a_store_copied_with_its_folder_reads_its_own_files(real_store, tmp_path):
    """An SQLite catalog records its data folder: a copy (or a move) follows the folder beside it."""
    con = db.connect(real_store, read_only=True)
    before = table_snapshot(con)
    con.close()
    moved = lake.copy_store(real_store, tmp_path / "elsewhere" / "moved.ducklake")
    shutil.rmtree(str(real_store) + ".files")  # the original's data folder is gone: the copy reads its own
    con = db.connect(moved)
    assert table_snapshot(con) == before
    with db.transaction(con) as cur:
        cur.execute("insert into schools select * from schools")  # large enough for a Parquet file of its own
        db.bump_version(cur)
    assert scalar(con, "select count(*) from schools") == 2 * len(before["schools"])
    con.close()
    assert not Path(str(real_store) + ".files").exists()
    assert len(list(Path(str(moved) + ".files").rglob("schools/*.parquet"))) >= 2


def test_a_postgres_store_needs_its_data_path(monkeypatch):
    monkeypatch.delenv("EXAMDASH_DATA_PATH", raising=False)
    with pytest.raises(db.DbError, match="EXAMDASH_DATA_PATH"):
        lake.resolve("postgresql://u@127.0.0.1:1/x")
    monkeypatch.setenv("EXAMDASH_DATA_PATH", "/srv/lake")
    store = lake.resolve("postgresql://u:p%40ss@db.example:5433/exam")
    assert store.kind == "postgres" and store.catalog == "dbname=exam host=db.example port=5433 user=u password=p@ss"
    assert "p@ss" not in store.describe()


def test_maintain_keeps_the_data_and_is_audited(real_store, tmp_path):
    con = db.connect(real_store, read_only=True)
    before = scalar(con, "select count(*) from registrations")
    con.close()
    done = run_cli(real_store, "maintain", "--keep-days", "1")
    assert done.returncode == 0, done.stderr
    assert "个早于 1 天的快照" in done.stdout
    con = db.connect(real_store, read_only=True)
    assert scalar(con, "select count(*) from registrations") == before
    assert db.app(con).rows("select actor, action from request_events where action = 'maintain'") == [("命令行", "maintain")]
    con.close()
    native = tmp_path / "plain.duckdb"
    db.connect(native).close()
    refused = run_cli(native, "maintain")
    assert refused.returncode != 0 and "只有 DuckLake 存储需要维护" in refused.stderr


_DECIDE = textwrap.dedent("""
    import sys
    from examdash.domain import auth, reviews
    from examdash.store import db
    path, item, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    con = db.connect(path)
    reviews.decide(con, auth.authenticate(con, "staff", password), item, "维持", "另一个进程核对无误")
    con.close()
""")


def test_a_review_decision_in_another_process_shows_at_the_next_page_run(real_store, monkeypatch):
    import streamlit as st

    monkeypatch.setenv("EXAMDASH_DB", str(real_store))
    monkeypatch.setenv("EXAMDASH_TODAY", "2023-06-14")  # inside 2023-1's publicity window
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    con = db.connect(real_store)
    item = rows(con, "select i.item_id from review_items i join review_requests r using (request_id) "
                     "where r.batch_code = '2023-1' and i.status in ('已提交', '复核中') order by i.item_id limit 1")[0][0]
    at = page_as("reviews", auth.authenticate(con, "staff", own_password("staff")), con, batch="2023-1")
    before = metrics(at)
    done = subprocess.run([sys.executable, "-c", _DECIDE, str(real_store), str(item), own_password("staff")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    at.run()
    after = metrics(at)
    assert int(after["待处理复核项"]) == int(before["待处理复核项"]) - 1
    assert int(after["已结论"]) == int(before["已结论"]) + 1
    assert rows(con, "select status, decision_note from review_items where item_id = $i", {"i": item}) == [
        ("维持", "另一个进程核对无误")]
    con.close()


def test_a_page_runs_state_is_read_again_only_after_a_commit_anywhere(real_store):
    """The lake's part of a page run's state is kept in the process while the store's catalog stays the same;
    a commit in another process (a new version) makes the next page run read it again."""
    con = db.connect(real_store)
    try:
        first = db.lake_state(con)
        assert db.lake_state(con) is first  # nothing committed: the same state, not read again
        assert db.run_state(con).data_version == first.data_version
        code = textwrap.dedent("""
            import sys
            from examdash.store import db
            con = db.connect(sys.argv[1])
            with db.transaction(con) as cur:
                db.bump_version(cur)
        """)
        done = subprocess.run([sys.executable, "-c", code, str(real_store)], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        second = db.lake_state(con)
        assert second is not first and second.data_version > first.data_version
        assert db.lake_state(con) is second and db.run_state(con).data_version == second.data_version
    finally:
        con.close()
    assert lake.catalog_stamp(lake.resolve(str(real_store).replace(".ducklake", ".duckdb"))) is None
