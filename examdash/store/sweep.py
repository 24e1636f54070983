"""What dead processes left on disk, and removing it: at the next start of the app and at every
`maintain`. A process's own temp folders, and what it removes itself on every exit it can catch, are
store/leftovers.py's.

What a process leaves in the store when a write did not get to its commit: the Parquet files DuckLake
writes during a write transaction (recorded in the catalog only at the commit: a killed import leaves
files no snapshot references, which `ducklake_cleanup_old_files` never looks at), and the original kept of
an import (`<db>_imports/<sha16>_<name>`, or its `.<ns>_<name>.part` copy: importers/__init__.py,
reviews.py) without its import_log row. Killed outright (SIGKILL, a power cut), it leaves these and its
temp folders (store/leftovers.py).

What dead processes left (`sweep`, run by `maintain` under the store's write lock; `at_start`, run by each
app process's first connection to a store, without waiting for any lock):

- a temp folder whose owner is provably dead. Its name carries the owner's pid and start time
  (`<prefix><pid>-<start>-<random>`, the start time from /proc/<pid>/stat in clock ticks since boot), and
  it holds `.owner`, locked (flock) by the owner for the folder's whole life. It is removed only when
  both say so: no live process has that pid with that start time (pid reuse gives another start time;
  a zombie counts as dead), and its lock can be taken (a live owner in another pid namespace, which sees
  the pid differently, still holds it). A folder of another user, a link, and folders named otherwise
  (older versions' `examdash-mirror-xxxxxxxx`, which name no owner) are left alone;
- data files no snapshot references, as DuckLake lists them (`ducklake_delete_orphaned_files`,
  dry run; only `ducklake-*.parquet` inside the data folder, never the kept originals a PostgreSQL
  store keeps there). A write transaction in another live process has written files it has not committed
  yet, which look the same. With an SQLite catalog every write transaction of every process holds the
  store's write lock from its first statement to its commit (db.transaction; an SQLite catalog is one
  machine's), so under that lock no such file exists and every orphan is removed at once. Otherwise (the
  lock is busy at start-up, or a PostgreSQL catalog, whose writers on other machines the lock does not
  order) only files older than MARGIN: a day, against imports that take minutes (the 导入 page's worker
  stops after EXAMDASH_IMPORT_SECONDS, 30 minutes; the write lock is waited for at most 5);
- kept originals that no import_log row names (by file name), and `.part` copies. An import copies its
  original before it takes the write lock (the `.part` while it validates; a review import its kept
  original), so the write lock is not enough: the command line's import and the 导入 page's worker hold
  the store's import lock (`importing`: `<catalog>.imports.lock`, shared) for their whole import, and
  these files are removed at once only under the write lock with no import holding it; otherwise after
  MARGIN. When another store's name leads to the same originals folder (`exam.duckdb` beside
  `exam.ducklake`: both keep theirs in `exam_imports/`), its files are left alone.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from examdash.config import imports_dir
from examdash.store import db, lake, leftovers

MARGIN = dt.timedelta(days=1)  # an unreferenced file younger than this may belong to a write under way
_NAME = re.compile(r"(" + "|".join(re.escape(p) for p in leftovers.PREFIXES) + r")(\d+)-(\d+)-[^/]+")
_KEPT = re.compile(r"[0-9a-f]{16}_.+")  # importers: <sha256[:16]>_<file name>
_PART = re.compile(r"\.(\d+)_.+\.part")  # importers: .<time_ns>_<file name>.part, the copy made while validating
_LOG = logging.getLogger("examdash")


def sweep_folders(folder: str | os.PathLike | None = None) -> int:
    """Remove the temp folders (in `folder`, default the temp folder) whose owners are provably dead.
    Returns how many were removed."""
    where = Path(folder or tempfile.gettempdir())
    removed = 0
    try:
        entries = list(os.scandir(where))
    except OSError:
        return 0
    for entry in entries:
        m = _NAME.fullmatch(entry.name)
        if not m or leftovers.alive(int(m.group(2)), int(m.group(3))):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue
        except OSError:
            continue
        if _remove_if_unlocked(Path(entry.path)):
            removed += 1
    return removed


def _remove_if_unlocked(folder: Path) -> bool:
    try:
        fd = os.open(folder / leftovers.OWNER, os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:
        fd = None  # killed between making the folder and locking it
    except OSError:
        return False
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # its owner lives (seen under another pid)
                return False
        shutil.rmtree(folder, ignore_errors=True)
        return not folder.exists()
    finally:
        if fd is not None:
            os.close(fd)


def imports_lock(store: lake.Store) -> Path | None:
    """The file an import holds shared for its whole run (an SQLite catalog's; None for other stores)."""
    return Path(store.catalog + ".imports.lock") if store.kind == "sqlite" else None


@contextmanager
def importing(con) -> Iterator[None]:
    """Held around an import (the command line's, the 导入 page worker's): a sweep does not remove the
    original it has copied aside before its write transaction."""
    path = imports_lock(db.store_of(con))
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a sweep looks at the originals (milliseconds)
        yield
    finally:
        os.close(fd)


@contextmanager
def _flock_now(path: Path | None) -> Iterator[bool]:
    """An exclusive flock on `path` if nobody holds it now (never waits): True, else False."""
    if path is None:
        yield False
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


@contextmanager
def _write_lock_now(store: lake.Store) -> Iterator[bool]:
    """The store's write lock if no writer of any process holds it now (never waits)."""
    if not lake.process_lock.acquire(blocking=False):
        yield False
        return
    try:
        with _flock_now(store.lock_file) as got:
            yield got
    finally:
        lake.process_lock.release()


def _age_ok(path: Path, alone: bool, *born: float) -> bool:
    """Whether an unreferenced file may go: at once when no writer can be under way, else after MARGIN."""
    if alone:
        return True
    try:
        st = path.stat()
    except OSError:
        return False
    return time.time() - max((st.st_mtime, *born)) > MARGIN.total_seconds()


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _originals_folder(store: lake.Store) -> Path:
    return imports_dir(store.spec if store.kind == "postgres" else store.catalog)


def orphan_files(con, alone: bool) -> int:
    """Remove the lake's data files no snapshot references (all of them when `alone`: no write can be
    under way; else those older than MARGIN). Returns how many."""
    store = db.store_of(con)
    cur = con.cursor()
    try:
        found = [Path(r[0]) for r in cur.execute(
            f"call ducklake_delete_orphaned_files('{lake.LAKE}', dry_run => true, cleanup_all => true)").fetchall()]
    finally:
        cur.close()
    data, kept = Path(store.data_path), _originals_folder(store)
    removed = 0
    for path in found:
        if not (path.name.startswith("ducklake-") and path.suffix == ".parquet"):
            continue
        if not _inside(path, data) or _inside(path, kept) or not _age_ok(path, alone):
            continue
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def _shares_originals(store: lake.Store) -> bool:
    """Whether another store beside this one keeps its originals in the same folder (config.imports_dir
    takes the name up to its first dot: exam.duckdb and exam.ducklake both use exam_imports/)."""
    if store.kind != "sqlite":
        return False
    catalog = Path(store.catalog)
    stem = catalog.name.split(".")[0]
    try:
        return any(p.name.startswith(stem + ".") and not p.name.startswith(catalog.name)
                   for p in catalog.parent.iterdir())
    except OSError:
        return True


def _listed_originals(con) -> tuple[Path | None, set[str]]:
    """The store's kept-originals folder (None when there is none, or another store shares it) and the
    file names its import_log lists."""
    store = db.store_of(con)
    folder = _originals_folder(store)
    if not folder.is_dir() or _shares_originals(store):
        return None, set()
    cur = con.cursor()
    try:
        return folder, {Path(r[0]).name for r in cur.execute(
            "select stored_path from import_log where stored_path is not null").fetchall()}
    finally:
        cur.close()


def orphan_originals(con, alone: bool) -> int:
    """Remove kept originals no import_log row names, and `.part` copies (all of them when `alone`: no
    import is under way; else those older than MARGIN). Returns how many."""
    folder, named = _listed_originals(con)
    if folder is None:
        return 0
    removed = 0
    for entry in list(os.scandir(folder)):
        if not entry.is_file(follow_symlinks=False):
            continue
        part = _PART.fullmatch(entry.name)
        if part:
            born = int(part.group(1)) / 1e9
        elif _KEPT.fullmatch(entry.name) and entry.name not in named:
            born = 0.0
        else:
            continue
        path = Path(entry.path)
        if _age_ok(path, alone, born):
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
    return removed


def sweep_store(con, *, locked: bool) -> dict:
    """The store's leftovers: orphaned data files and originals. `locked`: the caller holds the store's
    write lock (then, with an SQLite catalog, no write transaction is under way anywhere)."""
    store = db.store_of(con)
    done = {"orphan_files": 0, "orphan_originals": 0}
    if not store.is_lake:
        return done
    done["orphan_files"] = orphan_files(con, alone=locked and store.kind == "sqlite")
    with _flock_now(imports_lock(store)) as no_import:
        done["orphan_originals"] = orphan_originals(con, alone=locked and no_import)
    return done


def sweep(con) -> dict:
    """What dead processes left, for `maintain` (store/maintenance.py), which holds the store's write lock:
    leftover_folders (temp folders of dead processes), orphan_files (data files no snapshot references),
    orphan_originals (kept originals without their import_log row). Returns the counts."""
    done = {"leftover_folders": sweep_folders()}
    done.update(sweep_store(con, locked=True))
    if any(done.values()):
        _LOG.info("left behind by ended processes, removed: %s", done)
    return done


def at_start(con) -> dict:
    """The same at a process's first connection to a store (web._connection), without waiting for any
    lock: with the write lock busy only what is older than MARGIN goes. Never raises (logged)."""
    try:
        done = {"leftover_folders": sweep_folders()}
        with _write_lock_now(db.store_of(con)) as locked:
            done.update(sweep_store(con, locked=locked))
    except Exception:
        _LOG.exception("removing what ended processes left failed")
        return {}
    if any(done.values()):
        _LOG.info("left behind by ended processes, removed at start: %s", done)
    return done


def after_failed_import(con) -> dict:
    """After an import that ended with an exception (SIGTERM, a failed commit): remove what it left (its
    kept original) if no other import or writer is under way now; else `maintain` will."""
    try:
        with _write_lock_now(db.store_of(con)) as locked:
            return sweep_store(con, locked=locked)
    except Exception:
        _LOG.exception("clean-up after a failed import failed")
        return {}


def set_aside_originals(con) -> int:
    """After a restore: the kept originals of imports the restored store no longer lists (imports made after
    the backup) move into `restored_<time>/` beside them, where no sweep looks. They are what an operator
    would import again; the sweep removes only what a killed import left. Returns how many moved."""
    folder, named = _listed_originals(con)
    if folder is None:
        return 0
    unlisted = [Path(e.path) for e in os.scandir(folder)
                if e.is_file(follow_symlinks=False) and _KEPT.fullmatch(e.name) and e.name not in named]
    if not unlisted:
        return 0
    aside = folder / f"restored_{time.strftime('%Y%m%d-%H%M%S')}"
    aside.mkdir(mode=0o700, exist_ok=True)
    for path in unlisted:
        path.rename(aside / path.name)
    return len(unlisted)
