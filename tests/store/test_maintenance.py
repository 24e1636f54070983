"""Store maintenance (examdash/store/maintenance.py): a simulated week keeps the lake's snapshots, data
files and catalog within fixed bounds while requests add no snapshot at all; a pass with nothing to do
commits nothing; the lease gives a run to one caller; the background thread runs, once per process.

The bounds below are measured (docs/STORE.md, "Snapshots and maintenance") plus a margin; the docs quote
the same numbers."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path

import argon2
import pandas as pd
import pytest
from helpers import DEMO_SEED, rows, run_cli, scalar, write_frame

from examdash import demo
from examdash.domain import auth, lookup, reviews
from examdash.importers import import_file
from examdash.store import db, maintenance

DAYS = 7
# What the store holds after the simulated week, each day ending with maintenance.run(keep_days=0).
# Measured: 1 snapshot, 12 files in the data folder, a 380,928-byte catalog (372 KiB; the fresh copy of
# the demo: 46 snapshots, 13 files, 376,832 bytes).
MAX_SNAPSHOTS = 2
MAX_DATA_FILES = 16
MAX_CATALOG_BYTES = 512 * 1024
NOW = dt.timedelta(0)  # the week is compressed: no grace for readers, everything before now expires


@pytest.fixture(autouse=True)
def _no_threads_left():
    yield
    maintenance.stop()


@pytest.fixture
def fast_logins(fresh_db, monkeypatch):
    """The demo's accounts with their published passwords hashed by a fast argon2 (a login in the week
    checks a real hash without 50 ms of hashing each)."""
    fast = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", fast)
    with db.transaction(fresh_db) as cur:
        for username, role in cur.execute("select username, role from users").fetchall():
            cur.execute("update users set password_hash = $h where username = $u",
                        {"h": fast.hash(demo.DEMO_PASSWORD[role]), "u": username})
    return {u: demo.DEMO_PASSWORD[r] for u, r in rows(fresh_db, "select username, role from users where active")}


def snapshot_ids(con) -> list[int]:
    return [r[0] for r in rows(con, "select snapshot_id from lake.snapshots() order by snapshot_id")]


def data_files(con) -> int:
    return sum(1 for p in db.store_of(con).data_path.rglob("*") if p.is_file())


def catalog_bytes(con) -> int:
    catalog = db.store_of(con).catalog
    return sum(os.path.getsize(p) for p in (catalog, catalog + "-wal") if os.path.exists(p))


def published(con) -> tuple:
    """What the pages and the lookup show, in a few numbers, and the data version."""
    return (rows(con, "select batch_code, count(*), count(*) filter (where passed), sum(total)::double, "
                      "max(score_version) from results group by all order by all"),
            scalar(con, "select count(*) from registrations"), scalar(con, "select sum(amount_fen) from payments"),
            rows(con, "select status, count(*) from review_items group by all order by all"), db.data_version(con))


class Week:
    """The lake writes of one day of the publicity week, through the importers and the review workflow."""

    def __init__(self, con, demo_frames, demo_world, folder: Path):
        self.con, self.folder = con, folder
        self.regs = demo_frames["registrations"]["2023-2"].copy()
        self.payments = demo.make_payments(demo_world, list(demo_frames["registrations"].values()), DEMO_SEED)
        self.school = auth.reload_user(con, "school1")
        self.staff = auth.reload_user(con, "staff")
        filed = {r[0] for r in rows(con, "select ticket_no from review_items")}
        self.tickets = [t for (t,) in rows(
            con, "select ticket_no from results where batch_code = '2023-1' and school_code = $s "
                 "and attendance_status = '已签到' and practical < 99 order by ticket_no",
            {"s": self.school.school_code}) if t not in filed]

    def writes(self, day: int) -> None:
        self.regs.loc[day, "姓名"] = self.regs.loc[day, "姓名"][0] + "改" + "一二三四五六七"[day]  # a corrected name
        done = import_file(self.con, "registrations", write_frame(self.regs, self.folder / f"报名_{day}.csv"),
                           actor="test")
        assert done.ok and done.replaced == 1, done.lines()
        extra = pd.DataFrame([(f"9{day}{k:05d}", "2023-06-14", "某职业技术学院", "270.00", "考核费")
                              for k in range(day + 1)], columns=self.payments.columns)
        done = import_file(self.con, "payments", write_frame(pd.concat([self.payments, extra]),
                                                             self.folder / f"到账_{day}.xlsx"), actor="test")
        assert done.ok and done.added == day + 1, done.lines()
        keep, fix = self.tickets[2 * day], self.tickets[2 * day + 1]
        reviews.file_request(self.con, self.school, "2023-1", [(keep, "理论", "申请复核理论"), (fix, "实操", "申请核对实操")])
        items = dict(rows(self.con, "select ticket_no, item_id from review_items where list_contains($t, ticket_no)",
                          {"t": [keep, fix]}))
        reviews.start_review(self.con, self.staff, items[keep], "已调取试卷")
        reviews.decide(self.con, self.staff, items[keep], "维持", "阅卷无误")
        theory, practical = rows(self.con, "select theory::double, practical::double from results "
                                           "where batch_code = '2023-1' and ticket_no = $t", {"t": fix})[0]
        reviews.decide(self.con, self.staff, items[fix], "更正", "漏计 0.5 分", theory=theory, practical=practical + 0.5)


def lookups(con, pairs, first: int, n: int) -> int:
    """n candidate lookups (numbered from `first`, each from its own client 10.1.x.y): two in three with
    the right details, the rest a wrong ID number or a ticket that does not exist. Returns how many found."""
    found = 0
    for i in range(first, first + n):
        ticket, id_no = pairs[i % len(pairs)]
        if i % 6 == 1:
            id_no = pairs[(i + 1) % len(pairs)][1]  # someone else's (valid) ID number
        elif i % 6 == 4:
            ticket = f"99{i:010d}"
        answer = lookup.find(con, ticket, id_no, f"10.1.{i // 250 % 250}.{i % 250}")
        assert bool(answer) == (i % 6 not in (1, 4)), (i, ticket)
        found += bool(answer)
    return found


def logins(con, passwords: dict[str, str], first: int, n: int) -> None:
    """n logins of the demo's accounts, each from its own client 10.2.x.y; one in five a wrong password."""
    names = sorted(passwords)
    for i in range(first, first + n):
        user, client = names[i % len(names)], f"10.2.{i // 250 % 250}.{i % 250}"
        if i % 5 == 4:
            with pytest.raises(auth.AuthError):
                auth.authenticate(con, user, "not-the-password", client=client)
        else:
            assert auth.authenticate(con, user, passwords[user], client=client).username == user


@pytest.mark.parametrize("n_lookups, n_logins", [
    # the week's volume: 160 s on 2 cores, 120 s of it the logins (each reads its account from the lake)
    pytest.param(10_000, 2_000, marks=pytest.mark.slow, id="full"),
    pytest.param(700, 140, id="light"),  # the same writes and maintenance, a fourteenth of the requests: 37 s
])
def test_a_week_of_work_stays_within_the_bounds_and_requests_make_no_snapshot(
        fresh_db, fast_logins, demo_frames, demo_world, tmp_path, n_lookups, n_logins):
    con = fresh_db
    start = {"snapshots": len(snapshot_ids(con)), "files": data_files(con), "catalog": catalog_bytes(con)}
    week = Week(con, demo_frames, demo_world, tmp_path)
    pairs = rows(con, "select ticket_no, id_no from results where batch_code = '2023-1' and ticket_no is not null "
                      "order by ticket_no")
    timings = {"writes": 0.0, "lookups": 0.0, "logins": 0.0, "maintenance": 0.0}
    days = []
    for day in range(DAYS):
        t = time.monotonic()
        week.writes(day)
        timings["writes"] += time.monotonic() - t
        before = snapshot_ids(con)

        t = time.monotonic()
        first, n = n_lookups * day // DAYS, n_lookups * (day + 1) // DAYS - n_lookups * day // DAYS
        assert lookups(con, pairs, first, n) == sum(1 for i in range(first, first + n) if i % 6 not in (1, 4))
        timings["lookups"] += time.monotonic() - t
        t = time.monotonic()
        logins(con, fast_logins, n_logins * day // DAYS, n_logins * (day + 1) // DAYS - n_logins * day // DAYS)
        timings["logins"] += time.monotonic() - t
        assert snapshot_ids(con) == before, "a lookup or a login committed to the lake"

        shown = published(con)
        grown = (len(before), data_files(con), catalog_bytes(con))
        t = time.monotonic()
        done = maintenance.run(con, keep_days=0, grace=NOW)
        timings["maintenance"] += time.monotonic() - t
        assert published(con) == shown, "maintenance changed the figures or the data version"
        assert done["snapshots"] == 1 and done["snapshots_expired"] == len(before) - 1, done
        assert snapshot_ids(con) == before[-1:]
        ticket, id_no = pairs[day]
        assert [f.ticket_no for f in lookup.find(con, ticket, id_no, "10.3.0.1")] == [ticket]
        days.append((grown, (done["snapshots"], data_files(con), catalog_bytes(con)), done["files_deleted"],
                     done["inlined_rows"]))

    end = {"snapshots": len(snapshot_ids(con)), "files": data_files(con), "catalog": catalog_bytes(con)}
    print(f"\nweek ({n_lookups} lookups, {n_logins} logins): start {start}, end {end}")
    print("per day (snapshots, files, catalog bytes) before -> after maintenance, files deleted, inlined rows:")
    for d in days:
        print("  ", *d)
    print("seconds:", {k: round(v, 1) for k, v in timings.items()})
    assert end["snapshots"] <= MAX_SNAPSHOTS
    assert end["files"] <= MAX_DATA_FILES
    assert end["catalog"] <= MAX_CATALOG_BYTES
    events = db.app(con).rows("select count(*) from request_events where action = 'maintain' and actor = '维护'")
    assert events == [(DAYS,)]
    assert not rows(con, "select 1 from audit_log where action = 'maintain'")  # never in the lake


def test_a_run_with_nothing_to_do_commits_nothing(fresh_db):
    con = fresh_db
    maintenance.run(con, keep_days=0, grace=NOW)  # the demo's history expired: one snapshot is left
    kept = snapshot_ids(con)
    version, files = db.data_version(con), sorted(p.name for p in db.store_of(con).data_path.rglob("*.parquet"))
    for keep_days, grace in ((14, maintenance.GRACE), (0, maintenance.GRACE), (0, NOW)):
        done = maintenance.run(con, keep_days=keep_days, grace=grace, record_idle=False)
        assert (done["snapshots_expired"], done["files_deleted"], done["snapshots"]) == (0, 0, 1), done
        assert snapshot_ids(con) == kept
    assert db.data_version(con) == version
    assert sorted(p.name for p in db.store_of(con).data_path.rglob("*.parquet")) == files
    assert db.app(con).rows("select count(*) from request_events where action = 'maintain'") == [(1,)]  # the first
    maintenance.run(con, keep_days=0)  # called directly (the command line): recorded even when idle
    assert db.app(con).rows("select count(*) from request_events where action = 'maintain'") == [(2,)]
    assert snapshot_ids(con) == kept


def test_recent_snapshots_and_the_files_they_read_are_kept(fresh_db):
    """keep_days keeps the recent history for time travel; the grace keeps the snapshot that was current
    a moment ago, and the files it reads, for a reader in another process that began on it."""
    con = fresh_db
    history = snapshot_ids(con)
    done = maintenance.run(con, keep_days=14)  # the demo was made today: all of it is recent
    assert done["snapshots_expired"] == 0 and snapshot_ids(con) == history
    before = rows(con, "select count(*), sum(total)::double from results")
    with db.transaction(con) as cur:  # a new results file replaces the current one
        cur.execute("update results set total = total + 1 where batch_code = '2023-1'")
    maintenance.run(con, keep_days=0)  # with the grace
    assert snapshot_ids(con)[-2:] == [history[-1], history[-1] + 1]
    assert rows(con, f"select count(*), sum(total)::double from results at (version => {history[-1]})") == before


def test_a_plain_duckdb_file_needs_no_maintenance(tmp_path):
    con = db.connect(tmp_path / "plain.duckdb")
    try:
        with pytest.raises(db.DbError, match="只有 DuckLake 存储需要维护"):
            maintenance.run(con, keep_days=14)
        assert maintenance.start(con, minutes=1) is None
    finally:
        con.close()


def test_a_postgresql_catalog_is_maintained_the_same_way(postgres_db):
    con = db.connect(postgres_db)  # a new store: its migrations are a few dozen snapshots
    try:
        auth.create_user(con, "pgadmin", "PG", "admin", "Correct-horse1")
        users = rows(con, "select username from users")
        assert db.app(con).claim(maintenance.LEASE, maintenance._wall_clock(), dt.timedelta(hours=1))
        done = maintenance.run(con, keep_days=0, grace=NOW)
        assert done["snapshots_expired"] > 0 and done["snapshots"] == 1 == len(snapshot_ids(con))
        assert "inlined_rows" in done and "catalog_bytes" not in done
        assert rows(con, "select username from users") == users
        assert db.app(con).rows("select action from request_events") == [("maintain",)]
    finally:
        con.close()


def test_the_lease_goes_to_exactly_one_of_many_callers(fresh_db):
    app = db.app(fresh_db)
    now, every = dt.datetime(2024, 3, 1, 12, 0), dt.timedelta(hours=1)
    gate, opening, won = threading.Barrier(4), threading.Lock(), []

    def caller():  # each thread has its own connection to the application database, as a process has
        with opening:  # opened one at a time: a new connection's "pragma journal_mode" does not wait for a lock
            app.rows("select 1")
        gate.wait()
        won.extend(app.claim("test-lease", now, every) for _ in range(25))

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert won.count(True) == 1 and len(won) == 100
    assert not app.claim("test-lease", now + every - dt.timedelta(seconds=1), every)
    assert app.claim("test-lease", now + every, every)


def test_the_thread_runs_once_per_interval_over_processes_and_only_once_per_process(fresh_db, monkeypatch):
    con = fresh_db
    monkeypatch.setenv("EXAMDASH_MAINTAIN_MINUTES", "0")
    assert maintenance.start(con) is None  # turned off
    monkeypatch.setenv("EXAMDASH_MAINTAIN_MINUTES", "60")
    monkeypatch.setenv("EXAMDASH_SNAPSHOT_KEEP_DAYS", "0")
    history = snapshot_ids(con)
    worker = maintenance.start(con, first_delay=dt.timedelta(0), grace=NOW)
    assert worker is not None and worker.interval == dt.timedelta(minutes=60) and worker.keep_days == 0
    assert worker.turned.wait(60), "the first turn did not come"
    assert (worker.turns, worker.runs) == (1, 1) and worker.last["snapshots_expired"] == len(history) - 1
    assert snapshot_ids(con) == history[-1:]
    assert maintenance.start(con) is worker and worker.thread.is_alive()  # one thread per process and store
    assert db.app(con).rows("select actor, action from request_events where action = 'maintain'") == [("维护", "maintain")]

    # another process's worker on the same store: the lease is taken for this interval, so it only waits
    other = maintenance.Worker(con, dt.timedelta(minutes=60), dt.timedelta(0), 0, NOW)
    assert other.turn() and (other.turns, other.runs) == (1, 0)

    maintenance.stop()
    worker.thread.join(10)
    assert not worker.thread.is_alive()


def test_a_failed_run_is_logged_and_a_closed_connection_ends_the_thread(fresh_db_path, monkeypatch, caplog):
    con = db.connect(fresh_db_path)
    worker = maintenance.Worker(con, dt.timedelta(minutes=60), dt.timedelta(0), 0, NOW)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(maintenance, "run", broken)
    with caplog.at_level("ERROR", logger="examdash"):
        assert worker.turn()  # logged, not raised: the thread goes on
    assert "disk full" in caplog.text and (worker.turns, worker.runs) == (1, 0)
    monkeypatch.undo()
    later = maintenance._wall_clock() + dt.timedelta(hours=2)  # the next interval: the lease is free again
    monkeypatch.setattr(maintenance, "_wall_clock", lambda: later)
    con.close()
    assert not worker.turn()  # the app closed its connection
    gone = db.connect(fresh_db_path)
    worker = maintenance.Worker(gone, dt.timedelta(minutes=60), dt.timedelta(0), 0, NOW)
    gone.close()
    del gone
    assert not worker.turn()  # the connection is gone


def test_the_command_line_prints_what_it_did(fresh_db_path):
    done = run_cli(fresh_db_path, "maintain", "--keep-days", "0")
    assert done.returncode == 0, done.stderr
    assert "个早于 0 天的快照" in done.stdout and "现有 " in done.stdout and "个数据文件" in done.stdout
    con = db.connect(fresh_db_path, read_only=True)
    try:
        assert db.app(con).rows("select actor from request_events where action = 'maintain'") == [("命令行",)]
    finally:
        con.close()
