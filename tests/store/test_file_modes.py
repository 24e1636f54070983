"""What the product writes is its owner's alone: files 0600 in folders 0700, whatever the umask of the user
who runs it (examdash/store/private.py). Each store here is written by a process started with umask 022
(files 0644, folders 0755 unless the product sees to it); `maintain` repairs a store whose modes were
loosened and then has nothing left to repair."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, app_rows, run_cli

from examdash.config import imports_dir
from examdash.store import db, lake, private

UMASK_022 = ["sh", "-c", 'umask 022 && exec "$0" "$@"', sys.executable]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXAMDASH_")}
    env.update(PYTHONIOENCODING="utf-8", **extra)
    return env


def cli(db_path, *args, **env) -> subprocess.CompletedProcess:
    """python -m examdash in a process whose umask is 022 (the usual default)."""
    if not env:
        return run_cli(db_path, *args, prefix=UMASK_022 + ["-m", "examdash"])
    cmd = UMASK_022 + ["-m", "examdash", "--db", str(db_path), *map(str, args)]
    return subprocess.run(cmd, cwd=ROOT, env=_env(**env), capture_output=True, text=True, encoding="utf-8",
                          timeout=180)


def python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(UMASK_022 + ["-c", code], cwd=ROOT, env=_env(**env), capture_output=True, text=True,
                          encoding="utf-8", timeout=180)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def everything(*roots: Path) -> list[Path]:
    """The roots that exist and all they hold."""
    found = []
    for root in roots:
        if root.exists():
            found.append(root)
            if root.is_dir():
                found += sorted(root.rglob("*"))
    return found


def loose(*roots: Path) -> list[str]:
    """Every file that is not 0600 and every folder that is not 0700, with its mode."""
    return [f"{oct(mode(p))} {p}" for p in everything(*roots)
            if not p.is_symlink() and mode(p) != (private.DIR_MODE if p.is_dir() else private.FILE_MODE)]


def store_roots(path: Path) -> list[Path]:
    """What a store with an SQLite catalog at `path` is made of on disk."""
    catalog = str(path)
    return ([Path(catalog + s) for s in ("", "-wal", "-shm", ".lock")]
            + [Path(catalog + "-app.sqlite" + s) for s in ("", "-wal", "-shm")]
            + [Path(catalog + ".files"), imports_dir(path)])


# A process of the product: opens the store, adds an account (a password hash in the catalog), writes a
# request event (the application database) and builds the per-process mirror (store/mirror.py), then
# prints the modes of the mirror's folder and files.
APP_PROCESS = """
import json, os, stat, sys
from pathlib import Path
from examdash.domain import auth
from examdash.store import db, mirror
con = db.connect(sys.argv[1])
auth.create_user(con, "modes_admin", "权限测试", "admin", "Correct-horse-9")
db.event(con, "测试", "lookup", None, {"why": "file modes"})
mirror._mirror(con, db.data_version(con), wait=True)
folder = Path(mirror._state[con].folder)
print(json.dumps([[p.name, p.is_dir(), stat.S_IMODE(os.stat(p).st_mode)] for p in [folder, *folder.iterdir()]]))
con.close()
"""


_seen: dict = {}


@pytest.fixture(scope="module")
def built(tmp_path_factory, demo_file) -> Path:
    """A store made by `python -m examdash import` of the demo's schools, sites and registrations under
    umask 022, then used by a process of the app (an account, the application database, the mirror).
    Tests read it; the ones that change it work on a copy."""
    path = tmp_path_factory.mktemp("modes") / "store" / "exam.ducklake"
    for kind in ("schools", "sites", "registrations"):
        _, file, batch = demo_file(kind)
        made = cli(path, "import", kind, file, *(["--batch", batch] if batch else []))
        assert made.returncode == 0, made.stdout + made.stderr
    used = subprocess.run(UMASK_022 + ["-c", APP_PROCESS, str(path)], cwd=ROOT, env=_env(EXAMDASH_MIRROR="wait"),
                          capture_output=True, text=True, encoding="utf-8", timeout=180)
    assert used.returncode == 0, used.stderr
    _seen["mirror"] = json.loads(used.stdout.strip().splitlines()[-1])
    return path


def test_every_process_of_the_product_has_an_owner_only_umask():
    shown = python("import os, examdash; print(oct(os.umask(0)))")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "0o77"
    stricter = subprocess.run(["sh", "-c", 'umask 0277 && exec "$0" "$@"', sys.executable, "-c",
                               "import os, examdash; print(oct(os.umask(0)))"],
                              cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert stricter.stdout.strip() == "0o277"  # a stricter umask is kept
    old = os.umask(0o022)
    try:
        private.restrict()
        assert os.umask(0o022) == 0o077
    finally:
        os.umask(old)


def test_a_store_written_under_umask_022_is_owner_only(built):
    catalog = Path(str(built))
    assert catalog.exists() and Path(str(built) + "-app.sqlite").exists()
    parquet = sorted(Path(str(built) + ".files").rglob("*.parquet"))
    assert any("registrations" in p.parts for p in parquet), parquet
    assert list(imports_dir(built).iterdir()), "the originals were kept"
    assert loose(*store_roots(built)) == []
    assert mode(built.parent) == private.DIR_MODE  # the folder the command made for the store
    # the per-process mirror (results with ID numbers) of the app process
    mirror = _seen["mirror"]
    assert any(name.endswith(".duckdb") for name, _, _ in mirror), mirror
    assert all(m == (private.DIR_MODE if is_dir else private.FILE_MODE) for _, is_dir, m in mirror), mirror


def test_a_backup_made_by_the_command_line_is_owner_only(built, tmp_path):
    target = tmp_path / "backups" / "day1"
    done = cli(built, "backup", target)
    assert done.returncode == 0, done.stderr
    assert any(target.glob("*.parquet")) and (target / "schema.sql").exists()
    assert loose(target) == []
    assert mode(target.parent) == private.DIR_MODE
    empty = tmp_path / "given"  # an empty folder the operator made beforehand, 0755
    empty.mkdir()
    empty.chmod(0o755)
    done = cli(built, "backup", empty)
    assert done.returncode == 0, done.stderr
    assert loose(empty) == []


def loosen(roots: list[Path]) -> int:
    """chmod 0644 / 0755 everything, as an older version (or a careless copy) left it; returns how many."""
    n = 0
    for p in everything(*roots):
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)
            n += 1
    return n


def test_maintain_repairs_loose_modes_and_a_second_run_finds_nothing(built, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built.parent, copy, symlinks=True)
    path = copy / built.name
    roots = store_roots(path)
    outside = tmp_path / "elsewhere.txt"  # a link inside the data folder is never followed
    outside.write_text("not the store's")
    outside.chmod(0o644)
    (Path(str(path) + ".files") / "link").symlink_to(outside)
    count = loosen(roots)
    assert len(loose(*roots)) == count > 20

    first = cli(path, "maintain")
    assert first.returncode == 0, first.stderr
    assert loose(*roots) == []
    assert mode(outside) == 0o644
    files = sum(1 for p in everything(*roots) if p.is_file() and not p.is_symlink())
    folders = sum(1 for p in everything(*roots) if p.is_dir() and not p.is_symlink())
    assert f"已收紧权限：{files} 个文件改为 0600，{folders} 个目录改为 0700" in first.stdout, first.stdout
    assert str(path) in first.stdout and f"……等共 {files + folders} 项" in first.stdout

    second = cli(path, "maintain")
    assert second.returncode == 0, second.stderr
    assert "文件权限无需收紧" in second.stdout and "已收紧" not in second.stdout, second.stdout
    con = db.connect(path, read_only=True)
    try:
        found = [json.loads(d) for (d,) in app_rows(con, "select detail from request_events where action = 'maintain' "
                                                         "order by event_id")]
    finally:
        con.close()
    assert [(d["modes_files"], d["modes_folders"]) for d in found] == [(files, folders), (0, 0)]
    assert len(found[0]["modes_paths"]) == private.SHOWN


def test_the_maintenance_timer_records_a_pass_that_only_tightened_modes(built, tmp_path):
    from examdash.store import maintenance

    path = tmp_path / "timer.ducklake"
    lake.copy_store(built, path)
    con = db.connect(path)
    try:
        maintenance.run(con, keep_days=14, record_idle=False)  # nothing to expire: no trace
        assert app_rows(con, "select count(*) from request_events where action = 'maintain'") == [(0,)]
        data = Path(str(path) + ".files")
        loosen([data])
        done = maintenance.run(con, keep_days=14, record_idle=False)
        assert done["modes_folders"] >= 1 and done["modes_files"] >= 1 and done["snapshots_expired"] == 0
        assert app_rows(con, "select count(*) from request_events where action = 'maintain'") == [(1,)]
        assert loose(data) == []
    finally:
        con.close()


def test_a_copy_of_a_loose_store_is_private(built, tmp_path):
    source = tmp_path / "loose" / "a.ducklake"
    lake.copy_store(built, source)
    loosen([source, Path(str(source) + ".files")])
    target = tmp_path / "private" / "b.ducklake"
    lake.copy_store(source, target)
    assert loose(target, Path(str(target) + ".files")) == []


def test_the_extensions_stay_readable_for_every_user(tmp_path):
    """Program files, not data: the owner-only umask must not lock other users of the environment out."""
    folder = tmp_path / "ext"
    (folder / "v1" / "linux").mkdir(parents=True, mode=0o700)
    (folder / "v1" / "linux" / "x.duckdb_extension").write_bytes(b"x")
    (folder / "v1" / "linux" / "x.duckdb_extension").chmod(0o600)
    lake._readable(folder)
    assert mode(folder / "v1" / "linux") == 0o755
    assert mode(folder / "v1" / "linux" / "x.duckdb_extension") == 0o644


def test_a_postgresql_store_keeps_its_data_folder_private(postgres_db, tmp_path, demo_file):
    """With a PostgreSQL catalog only the data folder (and the originals kept in it) is on this machine."""
    data = Path(os.environ["EXAMDASH_DATA_PATH"])
    _, schools, _ = demo_file("schools")
    done = cli(postgres_db, "import", "schools", schools, EXAMDASH_DATA_PATH=str(data))
    assert done.returncode == 0, done.stdout + done.stderr
    assert any(data.rglob("*.parquet")) and any((data / "imports").iterdir())
    assert loose(data) == []
    store = lake.resolve(postgres_db)
    assert private.places(store) == [(data.resolve(), True)]
    loosen([data])
    first = cli(postgres_db, "maintain", EXAMDASH_DATA_PATH=str(data))
    assert first.returncode == 0, first.stderr
    assert loose(data) == []
    # what is left (the pass may delete an unused file first); the data folder itself was tightened when
    # the command opened the store for writing
    files = sum(1 for p in everything(data) if p.is_file())
    folders = sum(1 for p in everything(data) if p.is_dir()) - 1
    assert f"已收紧权限：{files} 个文件改为 0600，{folders} 个目录改为 0700" in first.stdout, first.stdout
    second = cli(postgres_db, "maintain", EXAMDASH_DATA_PATH=str(data))
    assert "文件权限无需收紧" in second.stdout, second.stdout


def test_repair_names_what_it_could_not_change(tmp_path, monkeypatch, capsys):
    """Another user's file cannot be changed by this one: it is named, and maintain warns about it."""
    from examdash.cli import backup

    store = lake.resolve(tmp_path / "s.ducklake")
    Path(store.catalog).write_bytes(b"")
    store.data_path.mkdir(mode=0o755)
    theirs = store.data_path / "a.parquet"
    theirs.write_bytes(b"x")
    for p, m in ((Path(store.catalog), 0o644), (store.data_path, 0o755), (theirs, 0o644)):
        p.chmod(m)
    real = os.chmod

    def chmod(path, mode, *args, **kwargs):
        if Path(path).name == "a.parquet":
            raise PermissionError(1, "Operation not permitted")
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "chmod", chmod)
    done = private.repair(store)
    assert done == {"modes_files": 1, "modes_folders": 1, "modes_paths": [store.catalog, str(store.data_path)],
                    "modes_failed": [str(theirs)]}
    backup._print_modes(done)
    out, err = capsys.readouterr()
    assert "已收紧权限：1 个文件改为 0600，1 个目录改为 0700" in out
    assert f"警告：无法收紧 {theirs} 的权限" in err
