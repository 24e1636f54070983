"""The DuckDB warehouse: opening, migrations, the exam plan, the data version, the audit log."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from examdash.config import EXAM_PLAN, TIMEZONE, db_path
from examdash.domain import plan as plan_mod
from examdash.domain import rules
from examdash.store.sql_files import statement

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# One DuckDB connection is shared by the threads of a process; a write transaction is held on its
# own cursor, and this lock keeps two writers of the same process from interleaving.
_write_lock = threading.RLock()


class DbError(RuntimeError):
    """A database problem with a message fit for the user (in Chinese)."""


def connect(path: str | os.PathLike | None = None, *, read_only: bool = False, plan_file: Path = EXAM_PLAN):
    """Open the warehouse, apply pending migrations and load the exam plan."""
    p = db_path(path)
    if not read_only:
        p.parent.mkdir(parents=True, exist_ok=True)
    elif not p.exists():
        raise DbError(f"数据库文件不存在：{p}（先运行 python -m examdash init 或 demo）")
    try:
        con = duckdb.connect(str(p), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DbError(
                f"数据库 {p} 正被另一个进程以写方式打开（应用或另一个导入正在运行）。"
                "请在应用的「导入」页导入，或先停止该进程后重试。"
            ) from exc
        raise DbError(f"无法打开数据库 {p}：{exc}") from exc
    if not read_only:
        # A large append is otherwise compressed into row groups on disk as it is inserted
        # ("optimistic write"); kept in memory and written by the commit's checkpoint instead, a
        # 1M-row import's two inserts (registrations, results) and commit take 1.0-1.2 s instead of
        # 2.2-2.5 s here (bench/import_bench.py). The commit stays atomic either way.
        con.execute("set enable_optimistic_write = false")
        migrate(con)
        sync_plan(con, plan_mod.load_plan(plan_file))
        sync_rules(con)
    return con


def pending_migrations(path) -> list[str]:
    """Migrations a database file has not had yet (read without taking the write lock)."""
    con = connect(path, read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        done = set()
        if "schema_migrations" in tables:
            done = {r[0] for r in con.execute("select version from schema_migrations").fetchall()}
    finally:
        con.close()
    return [f.stem for f in sorted(MIGRATIONS_DIR.glob("*.sql")) if f.stem not in done]


def migrate(con) -> list[str]:
    con.execute(
        "create table if not exists schema_migrations (version varchar primary key, applied_at timestamp not null)"
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


@contextmanager
def transaction(con):
    """One cursor, one transaction: everything or nothing."""
    with _write_lock:
        cur = con.cursor()
        cur.begin()
        try:
            yield cur
        except BaseException:
            cur.rollback()
            cur.close()
            raise
        cur.commit()
        cur.close()


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


def data_version(con) -> int:
    return int(rows(con, "select value from meta where key = 'data_version'")[0][0])


@dataclass(frozen=True)
class RunState:
    """What a page run reads once (store/sql/run_state.sql): the data version, the pinned day, a
    fingerprint of the accounts, and the state of the run's web session (None fields: no session)."""

    data_version: int
    pinned_day: str | None
    accounts: tuple[int, int]
    session_user: str | None = None
    session_epoch: int | None = None
    session_last_seen: dt.datetime | None = None
    session_expires_at: dt.datetime | None = None
    session_revoked_at: dt.datetime | None = None
    session_revoked_reason: str | None = None

    def today(self) -> dt.date:
        """The app's day as db.today would give it, from this read (EXAMDASH_TODAY still wins)."""
        pinned = os.environ.get("EXAMDASH_TODAY") or self.pinned_day
        return dt.date.fromisoformat(pinned) if pinned else now(None).date()


def run_state(con, session_id: int | None = None) -> RunState:
    version, pinned, n, h, *session = rows(con, statement("run_state"), {"session_id": session_id or 0})[0]
    return RunState(int(version), pinned, (int(n), int(h)), *session)


_bumps = 0  # data version bumps made by this process (a page run re-reads the version after its own write)


def bumps() -> int:
    return _bumps


def bump_version(cur) -> None:
    global _bumps
    _bumps += 1
    cur.execute("update meta set value = cast(cast(value as bigint) + 1 as varchar) where key = 'data_version'")


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
        "insert into audit_log (event_at, actor, action, target, detail) values ($at, $actor, $action, $target, $detail)",
        {
            "at": now(cur),
            "actor": actor,
            "action": action,
            "target": target,
            "detail": json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
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
        if changed:
            rebuild_results(cur, changed)
            bump_version(cur)


def sync_rules(con) -> None:
    """Write the rules queries read (review statuses, score weights and pass mark) from domain/rules.py;
    results are rebuilt when a weight or the mark changed."""
    statuses = [(s, i, s in rules.REVIEW_OPEN) for i, s in enumerate(rules.REVIEW_STATUSES, start=1)]
    score = (rules.THEORY_WEIGHT, rules.PRACTICAL_WEIGHT, rules.PASS_MARK)
    cur = con.cursor()
    try:
        same = (cur.execute("select status, seq, is_open from review_statuses order by seq").fetchall() == statuses
                and cur.execute("select * from score_rule").fetchall() == [score])
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
    """EXPORT/IMPORT DATABASE take no bound parameters: quote the operator's folder path as a literal."""
    return "'" + str(Path(path).resolve()).replace("'", "''") + "'"


def backup(con, target: Path) -> None:
    """EXPORT DATABASE as Parquet: schema.sql, load.sql and one file per table."""
    cur = con.cursor()
    try:
        cur.execute("checkpoint")
        cur.execute("export database " + _path_literal(target) + " (format parquet)")
    finally:
        cur.close()


def restore(source: Path, path: Path) -> None:
    """Rebuild a database from a backup folder into a new file next to `path`, then swap it in, so a
    failed restore changes nothing. The folder may have been moved since the backup was made."""
    source, path = Path(source), Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".restoring")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        tables = _create_schema(con, (source / "schema.sql").read_text(encoding="utf-8"))
        for n, line in enumerate((source / "load.sql").read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            m = _LOAD_LINE.fullmatch(line.strip())
            if not m or m.group(1).strip('"') not in tables:
                raise DbError(f"备份的 load.sql 第 {n} 行不是备份写出的语句（只接受 COPY 表 FROM 'x.parquet' (FORMAT 'parquet')）："
                              f"{line.strip()[:120]}")
            table = identifier(m.group(1).strip('"'), tables)  # only a table schema.sql created
            con.execute("COPY " + table + " FROM " + _path_literal(source / Path(m.group(2)).name) + " (FORMAT 'parquet')")
        if "web_sessions" in tables:  # a login that ended after the backup was made must not come back
            con.execute("update web_sessions set revoked_at = $t, revoked_reason = '数据库已从备份恢复' "
                        "where revoked_at is null", {"t": now(None)})
        con.execute("checkpoint")
    except Exception:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    Path(str(path) + ".wal").unlink(missing_ok=True)
    os.replace(tmp, path)


# What EXPORT DATABASE writes, and nothing else: a restore runs no other SQL from a backup folder.
_SCHEMA_STATEMENTS = [re.compile(p, re.I | re.S) for p in (
    r'CREATE SEQUENCE "?\w+"?( (INCREMENT BY|MINVALUE|MAXVALUE|START( WITH)?) -?\d+)*( NO)? CYCLE;?',
    r'CREATE TABLE "?\w+"?\(.*\);?',
    r'CREATE (UNIQUE )?INDEX "?\w+"? ON "?\w+"?\s*\([\w", ]+\);?',
    r'CREATE VIEW "?\w+"? AS .*',
    r'CREATE MACRO "?\w+"? ?\(.*',
)]
# Views and macros are created, not run, but the app would run them: none may touch files, the network
# or the engine's settings.
_FORBIDDEN = re.compile(r"\b(read_\w+|\w+_scan|glob|getenv|attach|detach|install|load|copy|export|import|pragma|set|"
                        r"call|checkpoint|vacuum|httpfs|secret)\b", re.I)
_LOAD_LINE = re.compile(r"""COPY ("?\w+"?) FROM '([^']+\.parquet)' \(FORMAT '?parquet'?\);""", re.I)


def _schema_statement(stmt: str) -> str:
    """The statement if it is one EXPORT DATABASE writes; DbError otherwise."""
    if len(duckdb.extract_statements(stmt)) != 1 or not any(p.fullmatch(stmt) for p in _SCHEMA_STATEMENTS):
        raise DbError(f"备份的 schema.sql 中有备份不会写出的语句，已拒绝恢复：{stmt[:120]}")
    if re.match(r"CREATE TABLE", stmt, re.I) and re.search(r"\bselect\b", stmt, re.I):
        raise DbError(f"备份的 schema.sql 中的建表语句带有查询，已拒绝恢复：{stmt[:120]}")
    body = re.sub(r"'[^']*'", "''", stmt)  # words inside string literals (a status, a rule) are data
    if _FORBIDDEN.search(body):
        raise DbError(f"备份的 schema.sql 中的语句会读写文件或改动数据库设置，已拒绝恢复：{stmt[:120]}")
    return stmt


def _create_schema(con, schema: str) -> set[str]:
    """Create what schema.sql describes (only the statement kinds a backup writes); returns the tables.
    EXPORT DATABASE does not order views after the views they read: retry until all are created."""
    pending = [_schema_statement(s.strip()) for s in schema.split(";\n") if s.strip()]
    tables = {re.match(r'CREATE TABLE "?(\w+)"?', s, re.I).group(1) for s in pending if re.match(r"CREATE TABLE", s, re.I)}
    while pending:
        failed = []
        for stmt in pending:
            try:
                con.execute(stmt)
            except duckdb.CatalogException:
                failed.append(stmt)
        if len(failed) == len(pending):
            con.execute(failed[0])  # raises the real error
        pending = failed
    return tables
