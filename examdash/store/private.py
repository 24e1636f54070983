"""Files that hold personal data are their owner's alone: 0600 files in 0700 folders, whatever the umask.

What the product writes holds ID numbers, names, scores and password hashes: the catalog (with SQLite's
`-wal`/`-shm`), the Parquet files of the data folder, the application database, the originals kept of
imported files, backups, the per-process mirror and temp files. Three things keep them private:

1. the process umask. `examdash/__init__.py` sets it to owner-only (`UMASK`) when the package is first
   imported, so every process of the product (the command line, the Streamlit server, its worker and
   reader children, a `python -c` helper) has it before it writes anything. DuckDB creates its files
   with 0666 and its folders with 0755, minus the umask; SQLite its files with 0644 (its `-wal`/`-shm`
   take the mode of the database file); Python's `open` with 0666: with the umask all of them come out
   0600 and 0700. `restrict` sets it again (idempotent) for an entry point that wants to say so;
2. explicit modes where the product makes a store's folders and files itself (`private_dir`,
   `private_file`: the catalog and data folder in lake.py, the application database, the kept
   originals, a backup): a folder that existed before with a looser mode is tightened as it is used;
3. `repair(store)`: what `maintain` runs (store/maintenance.py, `python -m examdash maintain`, the app's
   hourly timer) over an existing store, which may have been written before all this or by hand: the
   catalog and its `-wal`/`-shm`/lock, the data folder's whole tree, the application database's files and
   the kept originals' folder. It only takes away the group's and others' bits, reports what it changed,
   and never follows a symbolic link inside those trees. With a PostgreSQL catalog only the data folder
   (which holds the kept originals, `<data path>/imports`) is local; the catalog and the application
   database are the PostgreSQL server's. A backup folder is wherever the operator put it (`backup DIR`):
   it is made private when written, and has no place `repair` could know.

Only the owner's bits are left: root still reads everything, as always.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from examdash.config import imports_dir

UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700
LOOSE = 0o077  # the group's and others' bits: any of them set is a mode to tighten
SHOWN = 20  # paths named in a report (the counts are complete)

_CATALOG_SUFFIXES = ("", "-wal", "-shm", "-journal", ".lock")
_DUCKDB_SUFFIXES = ("", ".wal")
_APPDB_SUFFIXES = ("", "-wal", "-shm", "-journal")


def restrict() -> None:
    """Owner-only umask for this process and its children (kept stricter when it already is)."""
    os.umask(os.umask(UMASK) | UMASK)


def private_dir(path: str | os.PathLike) -> Path:
    """The folder, made when missing (with its missing parents, 0700), and tightened to 0700 when it had
    more (a folder of another user is left as it is: repair reports it)."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: str | os.PathLike) -> None:
    """The file tightened to 0600 when it has more (nothing when it is missing)."""
    _tighten(Path(path), FILE_MODE)


def private_tree(path: str | os.PathLike) -> None:
    """A folder and everything in it: folders 0700, files 0600 (a backup after it is written)."""
    report = _Report()
    report.tree(Path(path))


def _tighten(path: Path, mode: int) -> bool:
    try:
        st = os.stat(path)
        if st.st_mode & LOOSE:
            os.chmod(path, mode)
            return True
    except FileNotFoundError:
        pass
    except PermissionError:  # another user's: repair names it
        pass
    return False


class _Report:
    def __init__(self) -> None:
        self.files = self.folders = 0
        self.paths: list[str] = []
        self.failed: list[str] = []
        self.seen: set[Path] = set()

    def one(self, path: Path, st: os.stat_result) -> None:
        is_dir = stat.S_ISDIR(st.st_mode)
        if not (is_dir or stat.S_ISREG(st.st_mode)) or not st.st_mode & LOOSE:
            return
        try:
            os.chmod(path, DIR_MODE if is_dir else FILE_MODE)
        except FileNotFoundError:
            return  # removed meanwhile (a clean-up, a checkpoint): nothing to tighten
        except OSError:
            self.failed.append(str(path))
            return
        if is_dir:
            self.folders += 1
        else:
            self.files += 1
        self.paths.append(str(path))

    def top(self, path: Path) -> os.stat_result | None:
        """A place the store names: followed if it is a link (it is where the store is)."""
        resolved = path.resolve()
        if resolved in self.seen:
            return None
        self.seen.add(resolved)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        except OSError:
            self.failed.append(str(path))
            return None
        self.one(path, st)
        return st

    def tree(self, root: Path) -> None:
        st = self.top(root)
        if st is None or not stat.S_ISDIR(st.st_mode):
            return
        for folder, dirs, files, fd in _walk(root):
            for name in dirs + files:
                entry = Path(folder) / name
                try:
                    entry_st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                except OSError:
                    self.failed.append(str(entry))
                    continue
                self.one(entry, entry_st)

    def as_dict(self) -> dict:
        return {"modes_files": self.files, "modes_folders": self.folders, "modes_paths": self.paths[:SHOWN],
                "modes_failed": self.failed[:SHOWN]}


def _walk(root: Path):
    """os.fwalk: never follows a link inside the tree, and a folder tightened on the way is still read."""
    return os.fwalk(root, follow_symlinks=False)


def places(store) -> list[tuple[Path, bool]]:
    """What of a store is on this machine: (path, whole tree?) for the catalog's files, the data folder,
    the application database's files and the kept originals' folder."""
    found: list[tuple[Path, bool]] = []
    if store.kind == "sqlite":
        found += [(Path(store.catalog + s), False) for s in _CATALOG_SUFFIXES]
    elif store.kind == "native":
        found += [(Path(store.catalog + s), False) for s in _DUCKDB_SUFFIXES]
    if store.kind != "postgres":
        found += [(Path(store.catalog + "-app.sqlite" + s), False) for s in _APPDB_SUFFIXES]
    if store.data_path is not None:
        found.append((Path(store.data_path), True))
    kept = imports_dir(store.spec if store.kind == "postgres" else store.catalog)
    if store.data_path is None or not _inside(kept, Path(store.data_path)):
        found.append((kept, True))
    return found


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def repair(store) -> dict:
    """Tighten every loose mode of a store's local files and folders (files 0600, folders 0700). Returns
    modes_files and modes_folders (how many were changed), modes_paths (the first SHOWN of them) and
    modes_failed (those it could not change: another user's files)."""
    report = _Report()
    for path, whole in places(store):
        if whole:
            report.tree(path)
        else:
            report.top(path)
    return report.as_dict()
