"""Keeping a DuckLake's snapshots few without anyone remembering: expire and clean up, on a timer.

What grows. Every lake commit is a snapshot, and DuckLake keeps every snapshot, with the catalog rows and
Parquet files it reads, until told otherwise: the snapshot list, the catalog and the data folder only grow.
Request state (sessions, throttles, logins, candidate lookups) no longer commits to the lake
(store/appdb.py), so snapshots come only from writes to the exam data: imports, review steps, accounts,
the plan: a day of the simulated week (two imports, a review request, a start, two decisions) is 6.

What `run` does, under the store's write lock:

1. expire the snapshots older than `keep_days` (`ducklake_expire_snapshots`), except one that was the
   current snapshot less than `grace` ago: a reader in another process that began on it may still be
   reading, and it keeps its files for that long;
2. delete the files that only expired snapshots used (`ducklake_cleanup_old_files(cleanup_all)`): after
   step 1 no reader can still need them. (Its own `older_than` filter compares by the day on DuckDB
   1.5.5, so the delay is kept in step 1 instead.)
3. (outside the lock) tighten the loose modes of the store's local files and folders to 0600 and 0700
   (`private.repair`: catalog, data folder, application database, kept originals).

What it does not do, measured on DuckDB 1.5.5 (docs/STORE.md, "Snapshots and maintenance"):

- flush inlined rows into Parquet (`ducklake_flush_inlined_data`): it drops superseded inlined-data
  tables, and every other DuckDB instance that had read the table (the other app processes) then fails
  on it ("ducklake_inlined_data_3_2 does not exist") until it re-attaches (a known DuckLake bug: readers
  attached elsewhere keep a stale list of inlined-data tables). It would also add small files: flushed
  every day, 8 more data files a day.
- merge adjacent files (`ducklake_merge_adjacent_files`): after an expire it leaves the process that ran
  it unable to read a table whose inlined rows span schema versions ("Referenced column session_epoch
  not found"). Nor is it needed: after expire and clean-up the demo's data folder stays at 12 files.

So small writes stay inlined in the catalog (only live rows: the rows of expired snapshots go with them),
and `figures` reports how many (`inlined_rows`).

It changes no data: it does not bump the data version (every process keeps its caches and mirrors),
commits no snapshot, and writes no lake audit row (which would be a snapshot each time): it is a request
event ("maintain", in the application database) with its counts, except a run of the timer that found
nothing to do, which leaves no trace.

The timer (`start`): a daemon thread per process and store, every EXAMDASH_MAINTAIN_MINUTES (default 60;
0 turns it off), the first a few minutes after start-up. Every app process has one, but a run is leased in
the application database (`AppDb.claim("maintain", …)`): of all the processes and machines on the store,
one runs it per interval. Snapshots are kept EXAMDASH_SNAPSHOT_KEEP_DAYS days (default 14): time travel
(`AT (VERSION => n)`) reaches that far back. The lease is taken by the real clock, not db.clock: with the
day pinned (the demo) that clock's date stands still. `python -m examdash maintain [--keep-days N]` runs a
pass once, without the lease (the write lock orders it with a running pass).
A plain .duckdb store has no snapshots and needs none of this.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading
import time
import weakref
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from examdash.config import TIMEZONE
from examdash.store import db, lake, private

LEASE = "maintain"
DEFAULT_MINUTES = 60.0
DEFAULT_KEEP_DAYS = 14.0
FIRST_DELAY = dt.timedelta(minutes=3)  # after start-up: never while the app is still starting
GRACE = dt.timedelta(minutes=10)  # a snapshot that was current this recently is kept (and its files)
JOIN_SECONDS = 60.0  # at exit, how long a run under way is waited for
_META_NAME = f"__ducklake_metadata_{lake.LAKE}"  # the database DuckLake attaches its catalog as
_META = db.identifier(_META_NAME, [_META_NAME])
_LOG = logging.getLogger("examdash")


def _setting(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        _LOG.warning("%s=%r is not a number; using %s", name, raw, default)
        return default
    return max(value, 0.0)


def interval_minutes() -> float:
    """EXAMDASH_MAINTAIN_MINUTES: minutes between runs (0: no automatic maintenance)."""
    return _setting("EXAMDASH_MAINTAIN_MINUTES", DEFAULT_MINUTES)


def keep_days_setting() -> float:
    """EXAMDASH_SNAPSHOT_KEEP_DAYS: days of snapshots kept for time travel."""
    return _setting("EXAMDASH_SNAPSHOT_KEEP_DAYS", DEFAULT_KEEP_DAYS)


# --- one run -------------------------------------------------------------------------------------------


def _name() -> str:
    return "'" + lake.LAKE + "'"


def expirable(cur, keep_days: float, grace: dt.timedelta = GRACE) -> list[int]:
    """Ids of the snapshots older than `keep_days` that stopped being the current one at least `grace`
    ago (the current snapshot is never among them). Snapshot times are DuckLake's (UTC, real time)."""
    now = dt.datetime.now(dt.timezone.utc)
    found = cur.execute("select snapshot_id, snapshot_time, lead(snapshot_time) over (order by snapshot_id) "
                        f"from {lake.LAKE}.snapshots() order by snapshot_id").fetchall()
    keep_from, settled = now - dt.timedelta(days=keep_days), now - grace
    return [int(s) for s, at, superseded in found
            if superseded is not None and at < keep_from and superseded <= settled]


def inlined_rows(cur) -> int:
    """Rows DuckLake holds in the catalog's inlined-data tables (small writes that were never a file)."""
    names = [r[0] for r in cur.execute(f"select table_name from {_META}.ducklake_inlined_data_tables").fetchall()]
    if not names:
        return 0
    union = " union all ".join(f"select count(*) as n from {_META}.{db.identifier(n, names)}" for n in names)
    return int(cur.execute(f"select coalesce(sum(n), 0) from ({union})").fetchall()[0][0])


def figures(con) -> dict:
    """What the store holds now: snapshots, live data files (with delete files) and their bytes, rows
    inlined in the catalog, files waiting to be deleted, and an SQLite catalog's bytes on disk (with its
    write-ahead log)."""
    store = db.store_of(con)
    cur = con.cursor()
    try:
        out = {"snapshots": int(cur.execute(f"select count(*) from {lake.LAKE}.snapshots()").fetchall()[0][0])}
        files, deletes, size = cur.execute(
            "select coalesce(sum(file_count), 0), coalesce(sum(delete_file_count), 0), "
            f"coalesce(sum(file_size_bytes + delete_file_size_bytes), 0) from ducklake_table_info({_name()})"
        ).fetchall()[0]
        out.update(data_files=int(files) + int(deletes), data_bytes=int(size))
        try:  # DuckLake's own tables: a figure, never a reason for a run to fail
            out["inlined_rows"] = inlined_rows(cur)
            out["files_awaiting_deletion"] = int(cur.execute(
                f"select count(*) from {_META}.ducklake_files_scheduled_for_deletion").fetchall()[0][0])
        except duckdb.Error as exc:
            _LOG.info("DuckLake catalog figures not read: %s", exc)
    finally:
        cur.close()
    if store.kind == "sqlite":
        out["catalog_bytes"] = sum(os.path.getsize(p) for p in (store.catalog, store.catalog + "-wal")
                                   if os.path.exists(p))
    return out


def run(con, keep_days: float, *, actor: str = "维护", grace: dt.timedelta = GRACE,
        record_idle: bool = True) -> dict:
    """One pass (the module's docstring): expire the snapshots older than `keep_days` days and delete the
    files only they used. Returns snapshots_expired, files_deleted, and what is left (figures), with the
    seconds it took. The pass is a request event, unless it did nothing and `record_idle` is false (the
    timer's passes). Raises DbError for a store that is not a DuckLake."""
    store = db.store_of(con)
    if not store.is_lake:
        raise db.DbError("只有 DuckLake 存储需要维护（.duckdb 文件没有快照）")
    if keep_days < 0:
        raise db.DbError("保留快照的天数不能为负数")
    started = time.monotonic()
    done = {"keep_days": keep_days, "snapshots_expired": 0, "files_deleted": 0}
    with lake.write_lock(store):  # no writer of this machine is half-way through a commit meanwhile
        cur = con.cursor()
        try:
            versions = expirable(cur, keep_days, grace)
            if versions:  # nothing due: no call at all
                done["snapshots_expired"] = len(cur.execute(
                    f"call ducklake_expire_snapshots({_name()}, versions => $v)", {"v": versions}).fetchall())
            done["files_deleted"] = len(cur.execute(
                f"call ducklake_cleanup_old_files({_name()}, cleanup_all => true)").fetchall())
        finally:
            cur.close()
        from examdash.store import sweep  # what killed processes left: temp folders, orphans (sweep.py)

        done.update(sweep.sweep(con))  # leftover_folders, orphan_files, orphan_originals
    done.update(private.repair(store))  # 3. loose file modes: files 0600, folders 0700 (modes_*)
    done.update(figures(con))
    done["seconds"] = round(time.monotonic() - started, 3)
    if record_idle or any(done.get(k) for k in ("snapshots_expired", "files_deleted", "modes_files", "modes_folders",
                                                 "leftover_folders", "orphan_files", "orphan_originals")):
        db.event(con, actor, "maintain", None, done)
    return done


# --- the timer -----------------------------------------------------------------------------------------


def _wall_clock() -> dt.datetime:
    """Real time in the app's zone, for the lease. Not db.clock: with the day pinned (the demo) its date
    stands still, and a lease taken late on that day would never run out."""
    return dt.datetime.now(ZoneInfo(TIMEZONE)).replace(tzinfo=None)


class Worker:
    """The maintenance thread of one store in this process."""

    def __init__(self, con, interval: dt.timedelta, first_delay: dt.timedelta, keep_days: float,
                 grace: dt.timedelta = GRACE) -> None:
        self.catalog = db.store_of(con).catalog
        self._con = weakref.ref(con)  # the app's connection: the thread ends when it is gone
        self.interval, self.first_delay, self.keep_days, self.grace = interval, first_delay, keep_days, grace
        self.stop = threading.Event()
        self.turned = threading.Event()  # set after each turn (tests wait on it)
        self.turns = self.runs = 0  # turns taken; runs made (the lease was this worker's)
        self.last: dict | None = None  # what the last run returned
        self.thread = threading.Thread(target=self._loop, name=f"examdash-maintain-{Path(self.catalog).name}",
                                       daemon=True)

    def use(self, con) -> None:
        """Run on this connection from now on (the app opened a new one for the same store)."""
        self._con = weakref.ref(con)

    def turn(self) -> bool:
        """One turn: take the lease and, when it is this worker's, run. Errors are logged, never raised.
        False when the thread should end (its connection is gone or closed)."""
        try:
            con = self._con()
            if con is None:
                return False
            if db.app(con).claim(LEASE, _wall_clock(), self.interval):
                self.last = run(con, self.keep_days, grace=self.grace, record_idle=False)
                self.runs += 1
                _LOG.info("store maintenance: %s", self.last)
        except duckdb.ConnectionException as exc:  # the app closed its connection: nothing left to do
            _LOG.info("store maintenance of %s stops: %s", self.catalog, exc)
            return False
        except Exception:
            _LOG.exception("store maintenance of %s failed (tried again in %s)", self.catalog, self.interval)
        finally:
            self.turns += 1
            self.turned.set()
        return True

    def _loop(self) -> None:
        if self.stop.wait(self.first_delay.total_seconds()):
            return
        while not self.stop.is_set() and self.turn():
            if self.stop.wait(self.interval.total_seconds()):
                return


_workers: dict[str, Worker] = {}
_lock = threading.Lock()


def start(con, *, minutes: float | None = None, first_delay: dt.timedelta = FIRST_DELAY,
          keep_days: float | None = None, grace: dt.timedelta = GRACE) -> Worker | None:
    """Start this process's maintenance thread for the store `con` is on, once: a later call for the same
    store only hands the running thread the newer connection. None when it is turned off
    (EXAMDASH_MAINTAIN_MINUTES=0) or the store is not a DuckLake. The settings are read from the
    environment; the arguments are for tests."""
    store = db.store_of(con)
    if not store.is_lake:
        return None
    minutes = interval_minutes() if minutes is None else minutes
    if minutes <= 0:
        return None
    with _lock:
        found = _workers.get(store.catalog)
        if found is not None and found.thread.is_alive() and not found.stop.is_set():
            found.use(con)
            return found
        worker = _workers[store.catalog] = Worker(con, dt.timedelta(minutes=minutes), first_delay,
                                                  keep_days_setting() if keep_days is None else keep_days, grace)
        worker.thread.start()
        return worker


def stop(timeout: float = JOIN_SECONDS) -> None:
    """Stop every maintenance thread of this process, waiting for a run under way to end: a DuckDB call
    still running when the interpreter exits can abort the process. Registered to run at exit."""
    with _lock:
        workers = list(_workers.values())
        _workers.clear()
    for worker in workers:
        worker.stop.set()
    for worker in workers:
        if worker.thread.is_alive() and worker.thread is not threading.current_thread():
            worker.thread.join(timeout)


atexit.register(stop)
