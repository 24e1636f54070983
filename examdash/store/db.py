"""The warehouse: opening, migrations, the exam plan, the data version, ids, the audit log, backups.

Where the store lives (a DuckLake on an SQLite or PostgreSQL catalog, or a plain DuckDB file) is
examdash/store/lake.py; everything here works on the connection it opens."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from examdash.config import EXAM_PLAN, TIMEZONE, db_path
from examdash.domain import plan as plan_mod
from examdash.domain import ids, rules
from examdash.store import appdb, lake
from examdash.store.lake import DbError
from examdash.store.sql_files import statement

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

__all__ = ["DbError", "connect", "transaction"]


def connect(path: str | os.PathLike | None = None, *, read_only: bool = False, plan_file: Path = EXAM_PLAN):
    """Open the warehouse, apply pending migrations and load the exam plan."""
    store = lake.resolve(db_path(path))
    if store.kind == "native":
        p = Path(store.catalog)
        if not read_only:
            p.parent.mkdir(parents=True, exist_ok=True)
        elif not p.exists():
            raise DbError(f"数据库文件不存在：{p}（先运行 python -m examdash init 或 demo）")
    try:
        con = lake.open_store(store, read_only=read_only)
    except duckdb.IOException as exc:
        if store.kind == "native" and "lock" in str(exc).lower():
            raise DbError(
                f"数据库文件 {store.catalog} 正被另一个进程以写方式打开（单进程的 .duckdb 文件）。"
                "多个进程同时使用请改用 DuckLake 存储（python -m examdash convert）。"
            ) from exc
        if "version number" in str(exc) or "newer" in str(exc).lower():
            raise DbError(
                f"数据库文件 {store.catalog} 由更新版本的 DuckDB 写出，本程序（DuckDB {duckdb.__version__}）无法读取。"
                "请用写出它的旧版本运行 python -m examdash backup 目录，再用 python -m examdash restore 目录 恢复到新存储。"
            ) from exc
        raise DbError(f"无法打开数据库 {store.describe()}：{lake.redact(str(exc))}") from exc
    except duckdb.Error as exc:
        raise DbError(f"无法打开数据库 {store.describe()}：{lake.redact(str(exc))}") from exc
    _opened[con] = store
    if not read_only:
        plan = plan_mod.load_plan(plan_file)
        if not _up_to_date(con, plan):
            migrate(con)
            sync_plan(con, plan)
            sync_rules(con)
    return con


def _up_to_date(con, plan: plan_mod.Plan) -> bool:
    """Whether the store has every migration, this plan and these rules: read in one transaction (on a
    lake each transaction reads the catalog once; opening a store that is up to date writes nothing)."""
    cur = con.cursor()
    cur.begin()
    try:
        tables = {r[0] for r in cur.execute("select table_name from duckdb_tables() "
                                            "where database_name = current_database()").fetchall()}
        if "schema_migrations" not in tables:
            return False
        done = {r[0] for r in cur.execute("select version from schema_migrations").fetchall()}
        if any(f.stem not in done for f in MIGRATIONS_DIR.glob("*.sql")):
            return False
        return (_plan_rows(plan) == _stored_plan_rows(cur, [b.code for b in plan.batches])
                and _stored_rules(cur) == _rules_rows())
    finally:
        cur.rollback()
        cur.close()


def pending_migrations(path) -> list[str]:
    """Migrations a database file has not had yet (read without taking the write lock)."""
    con = connect(path, read_only=True)
    try:
        tables = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database()").fetchall()}
        done = set()
        if "schema_migrations" in tables:
            done = {r[0] for r in con.execute("select version from schema_migrations").fetchall()}
    finally:
        con.close()
    return [f.stem for f in sorted(MIGRATIONS_DIR.glob("*.sql")) if f.stem not in done]


def migrate(con) -> list[str]:
    con.execute(
        "create table if not exists schema_migrations (version varchar not null, applied_at timestamp not null)"
    )
    done = {r[0] for r in con.execute("select version from schema_migrations").fetchall()}
    applied = []
    for f in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if f.stem in done:
            continue
        with transaction(con) as cur:
            cur.execute(f.read_text(encoding="utf-8"))
            cur.execute("insert into schema_migrations values ($v, now())", {"v": f.stem})
        applied.append(f.stem)
    return applied


_stores: dict[str, lake.Store] = {}
_opened: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # connection or cursor -> its store


def store_of(con) -> lake.Store:
    """The store a connection (or a cursor of it) has as its default database."""
    found = _opened.get(con)
    if found is not None:
        return found
    path, kind = rows(con, "select path, type from duckdb_databases() where database_name = current_database()")[0]
    key = f"{kind}:{path}"
    if key not in _stores:
        if kind == "ducklake":
            catalog_kind, _, catalog = path.partition(":")
            _stores[key] = lake.Store("postgres" if catalog_kind.startswith("postgres") else "sqlite", path, catalog, None)
        else:
            _stores[key] = lake.Store("native", path or "", path or "", None)
    _opened[con] = _stores[key]
    return _stores[key]


@contextmanager
def transaction(con):
    """One cursor, one transaction: everything or nothing. Holds the store's write lock (this process's
    other threads and every other process on the machine wait), so a writer reads what the writer before
    it committed."""
    store = store_of(con)
    with lake.write_lock(store):
        cur = con.cursor()
        _opened[cur] = store
        cur.begin()
        try:
            yield cur
        except BaseException:
            cur.rollback()
            cur.close()
            raise
        try:
            cur.commit()
        except duckdb.TransactionException as exc:
            raise DbError(f"写入时数据已被另一处（另一台机器上的进程）修改，本次操作未写入，请重试。（{exc}）") from exc
        finally:
            cur.close()
            _PG_STAMPS.pop(store.catalog, None)  # this process's write shows at its next state read


# Ids of the tables that have one. DuckLake has no sequences: the next id is one more than both the
# largest id stored and the table's counter in id_counters (so an id is never given twice, even after the
# row that had it was deleted). Writers are serialised by the write lock; two machines that race update
# the same counter, which DuckLake refuses to commit twice.
ID_COLUMNS = {"audit_log": "audit_id", "import_log": "import_id", "review_requests": "request_id",
              "review_items": "item_id", "paper_certificate_requests": "request_id"}


def next_id(cur, table: str) -> int:
    column = identifier(ID_COLUMNS.get(table, ""), ID_COLUMNS.values())
    n = int(cur.execute(
        f"select greatest((select coalesce(max({column}), 0) + 1 from {identifier(table, ID_COLUMNS)}), "
        "coalesce((select max(next_id) from id_counters where table_name = $t), 1))", {"t": table}).fetchall()[0][0])
    cur.execute("delete from id_counters where table_name = $t", {"t": table})
    cur.execute("insert into id_counters values ($t, $n)", {"t": table, "n": n + 1})
    return n


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def identifier(name: str, allowed) -> str:
    """A table or column name for SQL text, quoted, and only one of `allowed` (a list the code holds).
    Values never go into SQL text: they are bound as $name."""
    if name not in allowed or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not an allowed identifier: {name!r}")
    return f'"{name}"'


def rows(con, sql: str, params: dict | None = None) -> list[tuple]:
    """A read on its own cursor (the connection is shared by every session's thread)."""
    cur = con.cursor()
    try:
        return cur.execute(sql, params or {}).fetchall()
    finally:
        cur.close()


def register(cur, name: str, frame) -> None:
    """A pandas frame for SQL under `name`, handed over as an Arrow table: DuckDB 1.5 converts pandas'
    Arrow-backed string columns to Python objects when it scans a DataFrame (2.7 s of a 1M-row import;
    as Arrow, nothing is converted)."""
    import pyarrow as pa

    cur.register(name, pa.Table.from_pandas(frame, preserve_index=False))


def data_version(con) -> int:
    return int(rows(con, "select value from meta where key = 'data_version'")[0][0])


def app(con) -> appdb.AppDb:
    """The application database of the store a connection is on (store/appdb.py): sessions, throttles and
    request events, which never touch the lake."""
    return app_of(store_of(con))


_APPS: dict[lake.Store, appdb.AppDb] = {}


def app_of(store: lake.Store) -> appdb.AppDb:
    found = _APPS.get(store)
    if found is None:
        if store.kind == "postgres":
            found = appdb.at("postgres", store.catalog)
        else:
            found = appdb.at("sqlite", str(appdb.sqlite_path(store.catalog)))
        _APPS[store] = found
    return found


@dataclass(frozen=True)
class LakeState:
    """What a page run needs of the lake (store/sql/run_state.sql): the data version, the pinned day and a
    fingerprint of the accounts. It changes only when the lake does: imports, decisions, accounts."""

    data_version: int
    pinned_day: str | None
    accounts: tuple[int, int]

    def today(self) -> dt.date:
        """The app's day as db.today would give it, from this read (EXAMDASH_TODAY still wins)."""
        pinned = os.environ.get("EXAMDASH_TODAY") or self.pinned_day
        return dt.date.fromisoformat(pinned) if pinned else now(None).date()

    def now(self) -> dt.datetime:
        """The app's clock (db.now) with the day from this read."""
        real = now(None)
        return dt.datetime.combine(self.today(), real.time())


@dataclass(frozen=True)
class RunState(LakeState):
    """A page run's state: the lake's (LakeState) and the run's web session from the application database
    (None fields: no session)."""

    session_user: str | None = None
    session_epoch: int | None = None
    session_last_seen: dt.datetime | None = None
    session_expires_at: dt.datetime | None = None
    session_revoked_at: dt.datetime | None = None
    session_revoked_reason: str | None = None


_LAKE_STATES: dict[str, tuple[object, float, LakeState]] = {}  # catalog -> (stamp, read started at, state)
_LAKE_READS: dict[str, threading.Lock] = {}
_LAKE_READS_LOCK = threading.Lock()
LAKE_STATE_TTL = 2.0  # seconds an SQLite catalog's state is trusted while its file stamp has not moved
# A PostgreSQL catalog's latest snapshot id is asked at most this often per process (each ask is a round
# trip and work for the server, which shares the machine): another process's write shows at most this much
# later; this process's own writes drop it at once (transaction).
PG_STAMP_TTL = 0.5
_PG_STAMPS: dict[str, tuple[float, object]] = {}


def change_stamp(con) -> object | None:
    """A cheap sign that the lake has committed since: for an SQLite catalog the catalog file's and its
    log's stat (lake.catalog_stamp), for a PostgreSQL catalog the latest snapshot id, read straight from
    the catalog's table through the application database's connection (a fraction of a millisecond;
    through DuckLake it is a catalog transaction). None for a plain DuckDB file (read every time)."""
    store = store_of(con)
    if store.kind == "sqlite":
        return lake.catalog_stamp(store)
    if store.kind == "postgres":
        now = time.monotonic()
        held = _PG_STAMPS.get(store.catalog)
        if held is not None and now - held[0] < PG_STAMP_TTL:
            return held[1]
        found = app_of(store).rows("select max(snapshot_id) from ducklake_snapshot")[0][0]
        _PG_STAMPS[store.catalog] = (now, found)
        return found
    return None


def lake_state(con) -> LakeState:
    """The lake's part of a page run's state, read once per change of the lake in each process and shared
    by every session and request: nothing a request writes (it goes to the application database) makes it
    read again. One read at a time per store: while the stamp is unchanged and only the SQLite stamp's time
    to live ran out (a checkpoint can restart the catalog's log at the same size within the file system's
    time granularity), one caller reads again and the others go on with the state they have; when the
    stamp moved, callers wait for the one read that is under way and take it (a read that began after they
    took their stamp is new enough). Under load a read through DuckLake took 150-200 ms: without this,
    every request arriving while it ran read again."""
    store = store_of(con)
    stamp = change_stamp(con)  # taken before the read: the state is then at least this new
    at = time.monotonic()
    if stamp is None:
        return _read_lake_state(con)
    key = store.catalog
    with _LAKE_READS_LOCK:
        reading = _LAKE_READS.setdefault(key, threading.Lock())
    hit = _LAKE_STATES.get(key)
    if hit is not None and hit[0] == stamp:
        if store.kind == "postgres" or at - hit[1] < LAKE_STATE_TTL or not reading.acquire(blocking=False):
            return hit[2]
    else:
        reading.acquire()
        hit = _LAKE_STATES.get(key)
        if hit is not None and (hit[0] == stamp or hit[1] >= at):
            reading.release()
            return hit[2]
    try:
        started = time.monotonic()
        state = _read_lake_state(con)
        _LAKE_STATES[key] = (stamp, started, state)
        return state
    finally:
        reading.release()


def lake_state_kept(con) -> LakeState | None:
    """The lake's state as lake_state would give it without reading the lake, or None when it would read
    (for callers that answer on the event loop when nothing needs reading, and hand off otherwise)."""
    store = store_of(con)
    if store.kind == "postgres":
        held = _PG_STAMPS.get(store.catalog)
        stamp = held[1] if held is not None and time.monotonic() - held[0] < PG_STAMP_TTL else None
    else:
        stamp = change_stamp(con) if store.kind == "sqlite" else None
    hit = _LAKE_STATES.get(store.catalog)
    if stamp is None or hit is None or hit[0] != stamp:
        return None
    if store.kind == "sqlite" and time.monotonic() - hit[1] >= LAKE_STATE_TTL:
        return None
    return hit[2]


def _read_lake_state(con) -> LakeState:
    version, pinned, n, h = rows(con, statement("run_state"))[0]
    return LakeState(int(version), pinned, (int(n), int(h)))


def run_state(con, session_id: int | None = None) -> RunState:
    """A page run's state: the lake's (cached, lake_state) and its web session's (a point read of the
    application database; a logout in another process shows at once)."""
    base = lake_state(con)
    found = app(con).session(session_id) if session_id else None
    return RunState(base.data_version, base.pinned_day, base.accounts, *(found or ()))


def event(con, actor: str, action: str, target: str | None = None, detail: dict | None = None) -> None:
    """A request event (a login, a logout, a lookup, a download, a refusal) in the application database:
    the half of the audit log that writes no lake snapshot. A write to the exam data audits with audit()
    inside its own lake transaction instead."""
    app(con).record(clock(con), actor, action, target, detail)


def clock(con) -> dt.datetime:
    """db.now from the cached lake state: the clock of code that runs on every request (sessions,
    throttles, the lookup), which must not read the lake each time."""
    return lake_state(con).now()


_bumps = 0  # data version bumps made by this process (a page run re-reads the version after its own write)


def bumps() -> int:
    return _bumps


def bump_version(cur) -> None:
    """Mark the data as changed by this transaction. On a lake the data version becomes the id of the
    snapshot this commit makes (the writer holds the write lock, so it is the current one plus one);
    every process keys its caches by it and sees the change at its next page run."""
    global _bumps
    _bumps += 1
    snapshot = cur.execute("select id from current_snapshot()").fetchall()[0][0] + 1 if store_of(cur).is_lake else 0
    cur.execute("update meta set value = cast(greatest(cast(value as bigint) + 1, $s) as varchar) "
                "where key = 'data_version'", {"s": snapshot})


def get_meta(con, key: str) -> str | None:
    found = rows(con, "select value from meta where key = $k", {"k": key})
    return found[0][0] if found else None


def set_meta(cur, key: str, value: str | None) -> None:
    cur.execute("delete from meta where key = $k", {"k": key})
    if value is not None:
        cur.execute("insert into meta values ($k, $v)", {"k": key, "v": value})


def pinned_day(con=None) -> dt.date | None:
    """The day "today" is pinned to (EXAMDASH_TODAY, or the database's meta for the demo), if any."""
    pinned = os.environ.get("EXAMDASH_TODAY") or (get_meta(con, "today") if con is not None else None)
    return dt.date.fromisoformat(pinned) if pinned else None


def now(con=None) -> dt.datetime:
    """The app's one clock: wall-clock time in Asia/Shanghai, naive (DuckDB timestamps are stored
    without zone). With the day pinned the whole clock moves to that day, date and time together, so
    every timestamp the app writes (audit, imports, score versions, reviews, logins) agrees with the
    dates its pages show."""
    real = dt.datetime.now(ZoneInfo(TIMEZONE)).replace(tzinfo=None)
    day = pinned_day(con)
    return real if day is None else dt.datetime.combine(day, real.time())


def today(con=None) -> dt.date:
    """The date of the app's clock (the real date in Asia/Shanghai unless pinned)."""
    return now(con).date()


def audit(cur, actor: str, action: str, target: str | None = None, detail: dict | None = None) -> None:
    cur.execute(
        "insert into audit_log (audit_id, event_at, actor, action, target, detail) "
        "values ($id, $at, $actor, $action, $target, $detail)",
        {
            "id": next_id(cur, "audit_log"),
            "at": now(cur),
            "actor": actor,
            "action": action,
            "target": ids.scrub(target),  # an ID number typed into any field is kept masked (ids.scrub)
            "detail": ids.scrub(json.dumps(detail, ensure_ascii=False, default=str)) if detail else None,
        },
    )


def sync_plan(con, plan: plan_mod.Plan) -> None:
    """Load the exam plan; rebuild results of batches whose pass rule changed."""
    cur = con.cursor()
    old_rules = dict(
        ((b, lv), r) for b, lv, r in cur.execute("select batch_code, level, rule from pass_rules").fetchall()
    )
    cur.close()
    new_rules = {(b.code, lv): r for b in plan.batches for lv, r in b.pass_rule.items()}
    changed = sorted({b for (b, lv), r in new_rules.items() if old_rules.get((b, lv)) not in (None, r)})
    cur = con.cursor()
    try:
        same = _plan_rows(plan) == _stored_plan_rows(cur, [b.code for b in plan.batches])
    finally:
        cur.close()
    if same:
        return  # opening the store writes nothing (no snapshot, no lock) when the plan is as stored
    with transaction(con) as cur:
        cur.execute("delete from batch_stages")
        cur.execute("delete from pass_rules")
        cur.execute("delete from provisional_fees")
        for b in plan.batches:
            cur.execute("delete from batches where batch_code = $c", {"c": b.code})
            cur.execute(
                "insert into batches values ($c, $n, $exam, $dl, $ps, $pe, $cf)",
                {
                    "c": b.code,
                    "n": b.name,
                    "exam": b.exam_date,
                    "dl": b.reg_deadline,
                    "ps": b.publicity_start,
                    "pe": b.publicity_end,
                    "cf": b.cert_from,
                },
            )
            for s in b.stages:
                cur.execute(
                    "insert into batch_stages values ($c, $seq, $stage, $s, $e)",
                    {"c": b.code, "seq": s.seq, "stage": s.stage, "s": s.start, "e": s.end},
                )
            for level, rule in b.pass_rule.items():
                cur.execute("insert into pass_rules values ($c, $l, $r)", {"c": b.code, "l": level, "r": rule})
        for level, fen in plan.provisional_fen.items():
            cur.execute("insert into provisional_fees values ($l, $f)", {"l": level, "f": fen})
        cur.execute("delete from stage_todos")
        if plan.todos:
            cur.executemany("insert into stage_todos values (?, ?, ?, ?)",
                            [(t.stage, t.seq, t.audience, t.text) for t in plan.todos])
        cur.execute("delete from payee")
        cur.execute(f"insert into payee ({', '.join(plan_mod.PAYEE_FIELDS)}) values "
                    f"({', '.join('?' * len(plan_mod.PAYEE_FIELDS))})", list(_payee_row(plan.payee)))
        if changed:
            rebuild_results(cur, changed)
            bump_version(cur)


def _plan_rows(plan: plan_mod.Plan) -> tuple:
    return (sorted((b.code, b.name, b.exam_date, b.reg_deadline, b.publicity_start, b.publicity_end, b.cert_from)
                   for b in plan.batches),
            sorted((b.code, s.seq, s.stage, s.start, s.end) for b in plan.batches for s in b.stages),
            sorted((b.code, lv, r) for b in plan.batches for lv, r in b.pass_rule.items()),
            sorted((lv, fen) for lv, fen in plan.provisional_fen.items()),
            [_payee_row(plan.payee)],
            sorted((t.stage, t.seq, t.audience, t.text) for t in plan.todos))


def _payee_row(payee: plan_mod.Payee) -> tuple:
    return tuple(getattr(payee, k) for k in plan_mod.PAYEE_FIELDS)


def _stored_plan_rows(cur, codes: list[str]) -> tuple:
    return (sorted(cur.execute("select * from batches where list_contains($c, batch_code)", {"c": codes}).fetchall()),
            sorted(cur.execute("select * from batch_stages").fetchall()),
            sorted(cur.execute("select * from pass_rules").fetchall()),
            sorted(cur.execute("select * from provisional_fees").fetchall()),
            cur.execute(f"select {', '.join(plan_mod.PAYEE_FIELDS)} from payee").fetchall(),
            sorted(cur.execute("select stage, seq, audience, text from stage_todos").fetchall()))


def _rules_rows() -> tuple[list, list]:
    statuses = [(s, i, s in rules.REVIEW_OPEN) for i, s in enumerate(rules.REVIEW_STATUSES, start=1)]
    return statuses, [(rules.THEORY_WEIGHT, rules.PRACTICAL_WEIGHT, rules.PASS_MARK)]


def _stored_rules(cur) -> tuple[list, list]:
    return (cur.execute("select status, seq, is_open from review_statuses order by seq").fetchall(),
            cur.execute("select * from score_rule").fetchall())


def sync_rules(con) -> None:
    """Write the rules queries read (review statuses, score weights and pass mark) from domain/rules.py;
    results are rebuilt when a weight or the mark changed."""
    statuses, (score,) = _rules_rows()
    cur = con.cursor()
    try:
        same = _stored_rules(cur) == (statuses, [score])
    finally:
        cur.close()
    if same:
        return
    with transaction(con) as cur:
        cur.execute("delete from review_statuses")
        cur.executemany("insert into review_statuses values (?, ?, ?)", statuses)
        changed = bool(cur.execute("select 1 from score_rule").fetchall())
        cur.execute("delete from score_rule")
        cur.execute("insert into score_rule values ($t, $p, $m)", {"t": score[0], "p": score[1], "m": score[2]})
        if changed:
            rebuild_results(cur, [r[0] for r in cur.execute("select distinct batch_code from results").fetchall()])
            bump_version(cur)


def rebuild_results(cur, batches) -> None:
    """Recompute the pre-joined results rows of the given batches inside the caller's transaction."""
    for b in sorted(set(batches)):
        cur.execute("delete from results where batch_code = $batch", {"batch": b})
        cur.execute(statement("rebuild_results"), {"batch": b})


def _path_literal(path: Path) -> str:
    """EXPORT DATABASE and ATTACH take no bound parameters: quote the operator's path as a literal."""
    return "'" + str(Path(path).resolve()).replace("'", "''") + "'"


def backup(con, target: Path) -> None:
    """EXPORT DATABASE as Parquet: schema.sql, load.sql and one file per table (one snapshot of the lake)."""
    cur = con.cursor()
    try:
        cur.execute("export database " + _path_literal(target) + " (format parquet)")
    finally:
        cur.close()


def maintain(con, keep_days: float, *, actor: str = "命令行") -> dict:
    """One maintenance pass of a DuckLake (store/maintenance.py): expire the snapshots older than
    `keep_days` days and delete the files only they used. Returns its counts and what is left. Commits no
    snapshot, leaves the data version as it is and is recorded as a request event, not in the lake."""
    from examdash.store import maintenance  # imported here: maintenance imports this module

    return maintenance.run(con, keep_days, actor=actor)


# Tables of earlier versions that moved to the application database (store/appdb.py): a backup made
# before the move still restores; what they held (sessions, throttles) is not carried over.
MOVED_OUT = frozenset({"web_sessions", "login_throttle", "client_throttle", "lookup_throttle"})


def _tables(con) -> list[str]:
    return [r[0] for r in rows(con, "select table_name from duckdb_tables() where database_name = current_database() "
                                    "and schema_name = 'main' order by table_name")]


# What a load.sql line of EXPORT DATABASE looks like; a restore runs nothing else from a backup folder.
_LOAD_LINE = re.compile(r"""COPY ("?\w+"?) FROM '([^']+\.parquet)' \(FORMAT '?parquet'?\);""", re.I)


def restore(source: Path, path, *, actor: str = "命令行") -> dict[str, int]:
    """Replace the store's data with a backup folder's, in one transaction: a failed restore changes
    nothing, and every process of the app sees the restored data at its next page run. The store's schema
    is this version's (migrations); the backup's tables are matched by name, their columns by name."""
    source = Path(source)
    loads = []
    for n, line in enumerate((source / "load.sql").read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        m = _LOAD_LINE.fullmatch(line.strip())
        if not m:
            raise DbError(f"备份的 load.sql 第 {n} 行不是备份写出的语句（只接受 COPY 表 FROM 'x.parquet' (FORMAT 'parquet')）："
                          f"{line.strip()[:120]}")
        loads.append((m.group(1).strip('"'), source / Path(m.group(2)).name))
    con = connect(path)
    try:
        return _replace_all(con, {t: "select * from read_parquet(" + _path_literal(f) + ")" for t, f in loads},
                            actor, "restore", str(source))
    finally:
        con.close()


def convert(source: Path, path, *, actor: str = "命令行", force: bool = False) -> dict[str, int]:
    """Copy a plain DuckDB database file (the store before DuckLake) into the store named by `path`, in
    one transaction. Refused when the target already holds data, unless `force`."""
    source = Path(source)
    if not source.exists():
        raise DbError(f"要转换的数据库文件不存在：{source}")
    con = connect(path)
    try:
        if not store_of(con).is_lake:
            raise DbError("转换的目标须是 DuckLake 存储（目录文件路径如 data/exam.ducklake，或 postgresql:// 地址）")
        if not force and any(rows(con, "select 1 from " + identifier(t, _tables(con)) + " limit 1")
                             for t in ("registrations", "schools", "import_log")):
            raise DbError("目标存储中已有数据；确认用源文件的数据整体替换请加 --force")
        try:
            con.execute("attach " + _path_literal(source) + " as convert_source (read_only)")
        except duckdb.Error as exc:
            if "version number" in str(exc):
                raise DbError(f"{source} 由更新版本的 DuckDB 写出，DuckDB {duckdb.__version__} 无法直接读取：请先用写出它的版本运行 "
                              "python -m examdash --db 该文件 backup 目录，再运行 python -m examdash restore 目录") from exc
            raise DbError(f"无法打开要转换的数据库文件 {source}：{exc}") from exc
        try:
            found = [r[0] for r in rows(con, "select table_name from duckdb_tables() "
                                             "where database_name = 'convert_source' and schema_name = 'main'")]
            return _replace_all(con, {t: "select * from convert_source.main." + identifier(t, found) for t in found},
                                actor, "convert", str(source))
        finally:
            con.execute("detach convert_source")
    finally:
        con.close()


def _replace_all(con, sources: dict[str, str], actor: str, action: str, what: str) -> dict[str, int]:
    """Every table of the store emptied and refilled from `sources` (table -> a select), in one
    transaction; tables the source lacks stay empty, a table the store lacks is refused. Open web sessions
    end (a login that ended after the source was made must not come back)."""
    tables = _tables(con)
    sources = {t: q for t, q in sources.items() if t not in MOVED_OUT}
    unknown = sorted(set(sources) - set(tables))
    if unknown:
        raise DbError(f"来源中的表在当前版本的数据库中不存在：{'、'.join(unknown)}（来源来自不兼容的版本）")
    counts = {}
    with transaction(con) as cur:
        version = data_version(cur)
        for t in tables:
            if t != "schema_migrations":
                cur.execute("delete from " + identifier(t, tables))
        for t, select in sorted(sources.items()):
            if t == "schema_migrations":
                continue
            try:
                cur.execute("insert into " + identifier(t, tables) + " by name " + select)
            except duckdb.Error as exc:
                raise DbError(f"表 {t} 无法载入（列与当前版本不一致？）：{str(exc).splitlines()[0]}") from exc
            counts[t] = int(cur.execute("select count(*) from " + identifier(t, tables)).fetchall()[0][0])
        # the version moves past both the store's and the source's, so no process keeps a stale cache
        loaded = cur.execute("select max(cast(value as bigint)) from meta where key = 'data_version'").fetchall()[0][0]
        cur.execute("delete from meta where key = 'data_version'")
        cur.execute("insert into meta values ('data_version', $v)", {"v": str(max(version, loaded or 0))})
        bump_version(cur)
        audit(cur, actor, action, what, {"rows": sum(counts.values()), "tables": len(counts)})
    # A login that ended after the source was made must not come back: every open web session ends.
    with app(con).transaction() as run:
        run("update web_sessions set revoked_at = :t, revoked_reason = '数据库已从备份恢复' where revoked_at is null",
            {"t": appdb.stamp(now(None))})
    return counts
