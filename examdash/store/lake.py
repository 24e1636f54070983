"""Where the warehouse lives, and how a process opens it.

`EXAMDASH_DB` (or `--db`) names the store:

- a path such as `data/exam.ducklake`: a DuckLake whose catalog is that SQLite file and whose data (Parquet)
  is the folder beside it, `data/exam.ducklake.files/`. Any number of processes on this machine read and
  write it at once (the app's processes, a command-line import, the import page's worker);
- a `postgresql://…` URL (or a libpq `dbname=… host=…` string prefixed `postgres:`) together with
  `EXAMDASH_DATA_PATH`, a folder every machine sees at the same path: the DuckLake for several machines;
- a path ending in `.duckdb`: a plain DuckDB file, one process only (the benchmarks' native baseline and
  the source of a conversion, `python -m examdash convert`).

The DuckDB extensions the lake needs (ducklake, sqlite, postgres) come from the pinned wheels in
requirements.txt and are installed from those files into the virtual environment; DuckDB never downloads
anything (autoinstall is off).

Writers: DuckLake gives every committed transaction a snapshot. With an SQLite catalog, two write
transactions that overlap in time cannot both commit (SQLite's one writer: the later one fails with
"database is locked"), so every write transaction of every process on the machine takes the store's
lock file first (`write_lock`); readers never wait. With a PostgreSQL catalog the same lock orders the
writers of one machine, and DuckLake's own commit retry orders those of different machines.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import sqlite3
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from examdash.store import private

EXTENSIONS = ("sqlite", "postgres", "ducklake")
_INSTALLED_NAME = {"sqlite": "sqlite_scanner", "postgres": "postgres_scanner", "ducklake": "ducklake"}
LOCK_WAIT_SECONDS = float(os.environ.get("EXAMDASH_WRITE_WAIT_SECONDS", "300"))


class DbError(RuntimeError):
    """A database problem with a message fit for the user (in Chinese)."""


@dataclass(frozen=True)
class Store:
    kind: str  # "native" | "sqlite" | "postgres"
    spec: str  # what the user gave
    catalog: str  # the .duckdb / catalog file path, or the libpq connection string
    data_path: Path | None

    @property
    def is_lake(self) -> bool:
        return self.kind != "native"

    @property
    def attach_target(self) -> str:
        return f"ducklake:{'sqlite' if self.kind == 'sqlite' else 'postgres'}:{self.catalog}"

    @property
    def lock_file(self) -> Path | None:
        if self.kind == "sqlite":
            return Path(self.catalog + ".lock")
        if self.kind == "postgres":
            digest = hashlib.sha256(self.catalog.encode()).hexdigest()[:16]
            return Path(tempfile.gettempdir()) / f"examdash-lake-{digest}.lock"
        return None

    def exists(self) -> bool:
        if self.kind == "postgres":
            return True
        return Path(self.catalog).exists()

    def describe(self) -> str:
        if self.kind == "postgres":
            return f"PostgreSQL 目录 {redact(self.catalog)}，数据目录 {self.data_path}"
        return self.catalog


def catalog_stamp(store: Store) -> tuple | None:
    """A cheap sign of change of a lake with an SQLite catalog: the size and modification time of the
    catalog file and its write-ahead log (two stat calls). Every commit writes to the log, so while the
    stamp stays the same nothing was committed, unless a checkpoint restarted the log at the same size
    within the file system's timestamp granularity; callers bound that case with a short time to live.
    Not read through SQLite on purpose: a second SQLite library in the process (DuckDB has its own) must
    not open the catalog (closing its file would drop the other's POSIX locks). None for other stores."""
    if store.kind != "sqlite":
        return None
    stamp = []
    for path in (store.catalog, store.catalog + "-wal"):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            stamp.append(None)
            continue
        except OSError:
            return None
        # An empty log is no log: DuckDB's SQLite creates it when it opens the catalog and removes it when it
        # closes, so a read would otherwise change the stamp it is checked against (measured: every request
        # read the state again, back to back, under load).
        stamp.append((st.st_size, st.st_mtime_ns, st.st_ino) if st.st_size else None)
    return tuple(stamp)


def redact(conninfo: str) -> str:
    return re.sub(r"password=('(?:[^'\\]|\\.)*'|\S+)", "password=***", conninfo)


def _libpq_value(value) -> str:
    text = str(value)
    if text and not re.search(r"[\s'\\]", text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _libpq(url: str) -> str:
    """postgresql://user:pw@host:port/db?x=y as a libpq key=value string (DuckDB's postgres extension
    takes either; the key=value form is the one its ATTACH documents). Values are quoted where libpq
    needs it (spaces, quotes, backslashes)."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    u = urlsplit(url)
    pairs = {"dbname": unquote(u.path.lstrip("/")) or None, "host": u.hostname, "port": u.port,
             "user": unquote(u.username) if u.username else None,
             "password": unquote(u.password) if u.password else None}
    pairs.update(dict(parse_qsl(u.query)))
    return " ".join(f"{k}={_libpq_value(v)}" for k, v in pairs.items() if v not in (None, ""))


def resolve(spec: str | os.PathLike) -> Store:
    text = str(spec)
    if text.startswith(("postgresql://", "postgres://", "postgres:")):
        conninfo = _libpq(text) if "://" in text else text[len("postgres:"):]
        data = os.environ.get("EXAMDASH_DATA_PATH")
        if not data:
            raise DbError("使用 PostgreSQL 目录时必须用 EXAMDASH_DATA_PATH 指定数据目录（各台机器上相同路径的共享目录）")
        return Store("postgres", text, conninfo, Path(data).resolve())
    path = Path(text).resolve()
    if path.suffix == ".duckdb":
        return Store("native", text, str(path), None)
    return Store("sqlite", text, str(path), Path(str(path) + ".files"))


def extension_directory() -> Path:
    return Path(sys.prefix) / "duckdb_extensions"


_installed = threading.Lock()
_done: set[str] = set()


def _extension_file(name: str) -> Path:
    import importlib

    module = importlib.import_module(f"duckdb_extension_{name}")
    return Path(module.__file__).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"


def _config() -> dict:
    return {"extension_directory": str(extension_directory()), "autoinstall_known_extensions": False,
            "autoload_known_extensions": True, "allow_community_extensions": False}


def install_extensions() -> None:
    """Copy the extensions from their pinned wheels into the environment's extension folder (once)."""
    with _installed:
        if _done:
            return
        extension_directory().mkdir(parents=True, exist_ok=True)
        guard = os.open(extension_directory() / ".install.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(guard, fcntl.LOCK_EX)  # two processes starting at once install once
        con = duckdb.connect(config=_config())
        try:
            installed = {r[0] for r in con.execute(
                "select extension_name from duckdb_extensions() where installed").fetchall()}
            for name in EXTENSIONS:
                if _INSTALLED_NAME[name] not in installed:
                    source = _extension_file(name)
                    if not source.exists():
                        raise DbError(f"缺少 DuckDB 扩展文件 {source}（请运行 make setup 安装 requirements.txt）")
                    con.execute(f"install '{source}'")  # a path from the installed wheel, not user input
            if not all(_INSTALLED_NAME[n] in installed for n in EXTENSIONS):
                _readable(extension_directory())
        finally:
            con.close()
            fcntl.flock(guard, fcntl.LOCK_UN)
            os.close(guard)
        _done.add("all")


def _readable(folder: Path) -> None:
    """The installed extensions are program files, not data: readable by every user of the environment
    (as the wheels they come from), although the process's umask is owner-only (store/private.py)."""
    for path in [folder, *folder.rglob("*")]:
        try:
            if path.is_symlink() or path.stat().st_uid != os.geteuid() or path.name.startswith("."):
                continue
            os.chmod(path, path.stat().st_mode | (0o755 if path.is_dir() else 0o644))
        except OSError:
            pass


def _create_sqlite_catalog(store: Store) -> None:
    """A new SQLite catalog in WAL mode: readers of other processes never block a writer's commit. It
    holds accounts and inlined rows: 0600 (its -wal and -shm take its mode), a new folder 0700."""
    Path(store.catalog).parent.mkdir(mode=private.DIR_MODE, parents=True, exist_ok=True)
    os.close(os.open(store.catalog, os.O_RDWR | os.O_CREAT, private.FILE_MODE))
    private.private_file(store.catalog)
    c = sqlite3.connect(store.catalog)
    try:
        c.execute("pragma journal_mode=wal")
    finally:
        c.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


LAKE = "lake"  # the name the store is attached under in every connection


def open_store(store: Store, *, read_only: bool = False):
    """A connection on which, and on every cursor of which, unqualified names are the store's."""
    if store.kind == "native":
        return duckdb.connect(store.catalog, read_only=read_only)
    install_extensions()
    if store.kind == "sqlite":
        if not Path(store.catalog).exists():
            if read_only:
                raise DbError(f"数据库不存在：{store.catalog}（先运行 python -m examdash init 或 demo）")
            _create_sqlite_catalog(store)
            _first_attach(store)
        else:
            _follow_data_folder(store)
    elif not read_only:
        _first_attach(store)
    # The instance's own default database stays an in-memory one and the lake is attached by name:
    # a query that names no lake table (the mirror's, store/mirror.py) then never opens a lake
    # transaction, which costs 2-3 ms of catalog reads each time.
    raw = duckdb.connect(config=_config())
    try:
        raw.execute(f"attach {_literal(store.attach_target)} as {LAKE}" + (" (read_only)" if read_only else ""))
        raw.execute(f"use {LAKE}")
    except BaseException:
        raw.close()
        raise
    return Connection(raw)


class Connection:
    """A DuckDB connection whose cursors all start in the lake (a cursor is a new DuckDB connection and
    does not inherit USE). Everything else is the DuckDB connection's own."""

    __slots__ = ("_raw", "__weakref__")

    def __init__(self, raw) -> None:
        self._raw = raw

    def cursor(self) -> Connection:
        cur = self._raw.cursor()
        cur.execute(f"use {LAKE}")
        return Connection(cur)

    @property
    def raw(self):
        return self._raw

    def __getattr__(self, name):
        return getattr(self._raw, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._raw.close()


def _first_attach(store: Store) -> None:
    """The first attach writes the catalog's tables and records the data path (later ones check it)."""
    private.private_dir(store.data_path)  # the Parquet files: 0600 by the umask, in 0700 folders
    boot = duckdb.connect(config=_config())
    try:
        with write_lock(store):
            boot.execute(f"attach {_literal(store.attach_target)} as boot "
                         f"(data_path {_literal(str(store.data_path) + os.sep)})")
    finally:
        boot.close()


def _follow_data_folder(store: Store) -> None:
    """An SQLite catalog and its data folder travel together (copied, moved, restored from a file backup):
    the catalog records the folder's absolute path, so point it at the folder beside it again. Data file
    paths inside are relative to it."""
    want = str(store.data_path) + os.sep
    c = sqlite3.connect(store.catalog, timeout=30)
    try:
        found = c.execute("select value from ducklake_metadata where key = 'data_path'").fetchall()
        if found and found[0][0] != want and store.data_path.is_dir():
            with c:
                c.execute("update ducklake_metadata set value = ? where key = 'data_path'", (want,))
    except sqlite3.Error:
        pass  # not initialised yet, or read-only media: DuckLake reports the real problem on attach
    finally:
        c.close()


def copy_store(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """A copy of a closed store: a .duckdb file, or an SQLite catalog with its data folder."""
    import shutil

    src, dst = resolve(source), resolve(target)
    if src.kind != dst.kind or src.kind == "postgres":
        raise DbError("只能复制同类的本机存储（.duckdb 文件，或 DuckLake 目录文件及其数据目录）")
    Path(dst.catalog).parent.mkdir(mode=private.DIR_MODE, parents=True, exist_ok=True)
    shutil.copyfile(src.catalog, dst.catalog)
    private.private_file(dst.catalog)
    for suffix in (".wal", "-wal"):
        if Path(src.catalog + suffix).exists():
            shutil.copyfile(src.catalog + suffix, dst.catalog + suffix)
            private.private_file(dst.catalog + suffix)
    if src.kind == "sqlite":
        shutil.copytree(src.data_path, dst.data_path, dirs_exist_ok=True)
        private.private_tree(dst.data_path)  # copytree copies the source's modes, loose ones too
    return Path(dst.catalog)


# --- the store's write lock -------------------------------------------------------------------------

# One DuckDB connection is shared by the threads of a process; this lock keeps two writers of the same
# process from interleaving (a write transaction is held on its own cursor).
process_lock = threading.RLock()
_fds: dict[str, int] = {}
_depth: dict[str, int] = {}


@contextmanager
def write_lock(store: Store):
    """Held around every write transaction. Re-entrant within a process (the caller serialises its own
    threads); waits for another process's writer, up to LOCK_WAIT_SECONDS."""
    with process_lock:
        path = store.lock_file
        if path is None:
            yield
        else:
            with _file_lock(str(path)):
                yield


@contextmanager
def _file_lock(key: str):
    """flock on the store's lock file; the caller holds process_lock, so depth is this thread's."""
    fd = _fds.get(key)
    if fd is None:
        Path(key).parent.mkdir(parents=True, exist_ok=True)
        fd = _fds[key] = os.open(key, os.O_RDWR | os.O_CREAT, 0o600)
    depth = _depth.get(key, 0)
    if depth == 0:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DbError(f"另一个进程正在写入数据库（例如导入进行中），等待 {LOCK_WAIT_SECONDS:g} 秒后仍未结束，"
                                     "本次操作未写入，请稍后重试") from None
                threading.Event().wait(0.02)
    _depth[key] = depth + 1
    try:
        yield
    finally:
        _depth[key] -= 1
        if _depth[key] == 0:
            fcntl.flock(fd, fcntl.LOCK_UN)
