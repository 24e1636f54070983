"""Each app process's read mirror of the lake, one per data version.

A query on a DuckLake pays for the catalog on every table it names (the SQLite or PostgreSQL reads that
find the snapshot, the table and its files) and reads Parquet: at 1M rows the page queries took 1.5-4x
their time on a DuckDB file (docs/STORE.md). The page queries are cached by data version anyway, so each
process keeps, per data version, a copy of the tables they read in a DuckDB file of its own (a temporary
file: DuckDB compresses and indexes a file-backed table, not an in-memory one): the pre-joined results
and every small table are copied, the large raw tables (registrations, sign-ins, score versions, the
logs) are views onto the lake, and the lake's views and macros are created again on top. A copy is
made in one read transaction, so it is the store as of one snapshot; its data version is read in the
same transaction. A query asked for version V runs on the copy of V, or of a later version when the
store has moved on (its answer is then newer than its cache key says, never older).

The copy of a new version is made on a thread while the queries of that version read the lake (a page
run never waits about 2 s at 1M rows for it); EXAMDASH_MIRROR=wait makes them wait (the benchmarks),
=off reads the lake always. Three versions are kept per process, each in its own file in a temp folder
of the process (store/leftovers.py: named for it and locked by it, removed at its exit, SIGTERM included,
and by the next start of the app or `maintain` when the process was killed).

Only queries cached by data version use a mirror (web._cached_query); everything that writes, and
everything read live (the audit log, accounts), reads the lake itself; sessions and request events live in
the application database (store/appdb.py).
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from pathlib import Path

from examdash.store import db, lake, leftovers

PREFIX = "examdash_mirror_v"  # one attached DuckDB file per data version: examdash_mirror_v<version>
ALWAYS = frozenset({"results"})  # the pre-joined table every analytics query reads, whatever its size
SMALL_ROWS = 100_000  # other tables up to this many rows are copied; larger ones stay views on the lake
KEEP = 3  # versions kept: a query still running on an older copy is not pulled from under it

_lock = threading.Lock()
_state: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # connection -> _Mirrors
_folders: list[str] = []
_threads: list[threading.Thread] = []  # background copies: waited for at exit (DuckDB must not be mid-query then)
_LOG = logging.getLogger(__name__)


class _Mirrors:
    def __init__(self) -> None:
        self.folder = str(leftovers.owned_folder(leftovers.MIRROR))  # examdash-mirror-<pid>-<start>-…
        _folders.append(self.folder)
        self.built: list[int] = []
        self.building = threading.Lock()


def _cleanup() -> None:
    """At the process's end (atexit), or as SIGTERM reaches the server (leftovers.exit_on_sigterm): no new
    copy starts, the one under way is waited for, the folders go."""
    for thread in list(_threads):  # a copy still running when the process ends would abort it in C++
        thread.join(timeout=60)
    for folder in _folders:
        leftovers.release(folder)


leftovers.at_exit(_cleanup)
# The Streamlit server imports this module on its main thread, while uvicorn's SIGTERM handler is in place:
# chained here, the mirrors are removed as SIGTERM arrives (uvicorn ends the process with the signal's
# default action after its graceful shutdown, which runs no atexit). A plain process gets SIGTERM as a
# normal exit.
leftovers.exit_on_sigterm()


def mode() -> str:
    """EXAMDASH_MIRROR: "background" (default: a query the mirror is not ready for reads the lake while
    the copy is made on a thread), "wait" (the query waits for the copy: benchmarks), "off"."""
    value = os.environ.get("EXAMDASH_MIRROR", "background")
    return value if value in ("background", "wait", "off") else "background"


def cursor(con, version: int):
    """A cursor on the mirror of `version` (or a later one) when there is one; otherwise a cursor on the
    store itself (a DuckDB file has nothing to mirror; a lake's mirror may still be being made)."""
    if not db.store_of(con).is_lake or mode() == "off":
        return con.cursor()
    built = _mirror(con, version, wait=mode() == "wait")
    if built is None:
        return con.cursor()
    cur = con.raw.cursor()  # not the lake's: a query on the mirror opens no lake transaction
    cur.execute("use " + _database(built))
    return cur


def _database(version: int) -> str:
    """The attached name of a mirror, quoted: examdash_mirror_v<version>, the only names this module uses."""
    name = f"{PREFIX}{int(version)}"
    return db.identifier(name, [name])


def _literal(path: Path) -> str:
    """A file path as an SQL string (ATTACH takes no bound parameter); the paths are this module's own,
    in its temp folder, and quotes are doubled all the same."""
    return "'" + str(path).replace("'", "''") + "'"


def _mirror(con, version: int, *, wait: bool) -> int | None:
    """The data version of a ready mirror at least as new as `version`, or None (reading the lake)."""
    with _lock:
        if leftovers.exiting():  # the process is ending: its folders are gone or going
            return None
        mirrors = _state.get(con)
        if mirrors is None:
            mirrors = _state[con] = _Mirrors()
        for v in reversed(mirrors.built):
            if v >= version:
                return v
    if wait:
        with mirrors.building:
            return _refresh(con, mirrors, version)
    if mirrors.building.acquire(blocking=False):
        thread = threading.Thread(target=_background, args=(con, mirrors, version), name="examdash-mirror", daemon=True)
        _threads[:] = [t for t in _threads if t.is_alive()] + [thread]
        thread.start()
    return None


def _background(con, mirrors: _Mirrors, version: int) -> None:
    try:
        _refresh(con, mirrors, version)
    except Exception as exc:  # the connection was closed meanwhile, or the store moved on: queries read the lake
        _LOG.info("mirror of data version %s not made: %s", version, exc)
    finally:
        mirrors.building.release()


def _refresh(con, mirrors: _Mirrors, version: int) -> int:
    for v in reversed(mirrors.built):  # made by another thread while this one waited
        if v >= version:
            return v
    v = _build(con, Path(mirrors.folder))
    with _lock:
        built = sorted(set(mirrors.built) | {v})
        mirrors.built = built[-KEEP:]
    for old in built[:-KEEP]:
        con.raw.execute("detach database if exists " + _database(old))
        for f in Path(mirrors.folder).glob(f"v{old}.duckdb*"):
            f.unlink(missing_ok=True)
    return v


def _build(con, folder: Path) -> int:
    """Copy the store as of one snapshot into a new DuckDB file, then attach that file again read-only:
    tables read from a freshly opened file run at a DuckDB file's speed (measured: the same query took
    4x as long on the tables still held by the session that wrote them)."""
    cur = con.cursor()
    try:
        cur.execute("begin")
        version = int(cur.execute("select value from meta where key = 'data_version'").fetchall()[0][0])
        name, path = _database(version), folder / f"v{version}.duckdb"
        cur.execute("detach database if exists " + name)
        for f in folder.glob(f"v{version}.duckdb*"):
            f.unlink()
        cur.execute(f"attach {_literal(path)} as {name}")
        tables = db.rows(cur, "select table_name, estimated_size from duckdb_tables() "
                              "where database_name = $d and schema_name = 'main'", {"d": lake.LAKE})
        names = [t for t, _ in tables]
        source = db.identifier(lake.LAKE, [lake.LAKE])
        for table, size in tables:
            quoted = db.identifier(table, names)
            copy = table in ALWAYS or (size or 0) <= SMALL_ROWS
            cur.execute(f"create {'table' if copy else 'view'} {name}.main.{quoted} as "
                        f"select * from {source}.main.{quoted}")
        cur.execute("use " + name)
        views = [r[0] for r in db.rows(cur, "select sql from duckdb_views() where database_name = $d and not internal",
                                       {"d": lake.LAKE})]
        _create_in_order(cur, views)  # the lake's own view definitions, as the migrations wrote them
        for macro, params, body in db.rows(cur, "select function_name, parameters, macro_definition from duckdb_functions() "
                                                "where database_name = $d and function_type = 'table_macro'",
                                           {"d": lake.LAKE}):
            # the lake's own macro, as its migration defined it: name and parameters checked as identifiers
            args = ", ".join(db.identifier(p, params) for p in params)
            cur.execute(f"create macro {name}.main.{db.identifier(macro, [macro])}({args}) as table {body}")
        cur.execute("commit")
        cur.execute("use " + source)
        cur.execute("detach " + name)
        cur.execute(f"attach {_literal(path)} as {name} (read_only)")
        return version
    except BaseException:
        try:
            cur.rollback()
        except Exception:
            pass
        raise
    finally:
        cur.close()


def _create_in_order(cur, views: list[str]) -> None:
    """Views that read other views, each after the views it names (an error would end the transaction,
    so the order is worked out first)."""
    import re

    named = {re.match(r'(?is)\s*create\s+view\s+"?(\w+)"?', sql).group(1): sql for sql in views}
    done: set[str] = set()
    while len(done) < len(named):
        ready = [n for n, sql in named.items() if n not in done
                 and not any(o != n and o not in done and re.search(rf"\b{o}\b", sql) for o in named)]
        if not ready:
            raise db.DbError(f"视图之间循环引用：{sorted(set(named) - done)}")
        for n in ready:
            cur.execute(named[n])
            done.add(n)
