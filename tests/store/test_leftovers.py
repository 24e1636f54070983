"""What processes leave behind (examdash/store/leftovers.py, sweep.py), with real processes killed for real: a server
killed with SIGKILL leaves its mirror until the next start removes it, one stopped with SIGTERM leaves
nothing; a command-line import killed in the middle of its write leaves an orphaned data file and a kept
original until `maintain`, one stopped with SIGTERM nothing at all; the import worker and the reading child
stop when their parent dies, without committing. The figures of the store never change."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import ROOT, copy_db, retire_demo_passwords, rows, table_snapshot

from examdash import demo
from examdash.config import imports_dir
from examdash.store import db, lake, leftovers, sweep

WAIT = 180.0  # seconds any one thing below may take on a loaded machine


def until(check, what: str, seconds: float = WAIT):
    """Poll `check` until it returns something true (returned), failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:g} s waiting for {what}")
        time.sleep(0.02)


def env(temp: Path, **extra) -> dict:
    out = {k: v for k, v in os.environ.items() if not k.startswith("EXAMDASH_")}
    out.update(TMPDIR=str(temp), PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1", EXAMDASH_MAINTAIN_MINUTES="0", **extra)
    return out


@pytest.fixture
def temp(tmp_path, monkeypatch) -> Path:
    """A private temp folder, this process's and its children's (nothing else there to confuse a sweep)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return folder


@pytest.fixture
def store(demo_db_path, tmp_path) -> Path:
    """A copy of the demo store whose accounts no longer have the published passwords (it takes imports)."""
    path = copy_db(demo_db_path, tmp_path / "store" / "exam.ducklake")
    con = db.connect(path)
    retire_demo_passwords(con)
    con.close()
    return path


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    """New registrations enough for a write of a few seconds (its data file appears before the commit)."""
    path = tmp_path_factory.mktemp("big") / "报名_补录.csv"
    demo.write_csv(demo.make_registrations(demo.make_world(), 200_000, "2023-2", seed=4242).assign(准考证号=""), path)
    return path


def parquet(path: Path) -> dict[str, str]:
    """The store's data files: {path in the data folder: sha256}."""
    data = Path(str(path) + ".files")
    return {str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(data.rglob("*.parquet"))}


def originals(path: Path) -> list[str]:
    folder = imports_dir(path)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def figures(path: Path) -> dict:
    con = db.connect(path)
    try:
        return table_snapshot(con)
    finally:
        con.close()


def children(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_bytes()
        except OSError:
            continue
        fields = raw[raw.rindex(b")") + 2:].split()
        if int(fields[1]) == pid and fields[0] not in (b"Z", b"X"):
            found.append(int(entry.name))
    return found


def new_files(path: Path, before: dict) -> list[str]:
    return sorted(set(parquet_names(path)) - set(before))


def parquet_names(path: Path) -> list[str]:
    data = Path(str(path) + ".files")
    return [str(p.relative_to(data)) for p in data.rglob("ducklake-*.parquet")]


# --- temp folders: only a provably ended owner's go ----------------------------------------------------


def test_only_the_folders_of_ended_processes_are_removed(temp):
    mine = leftovers.owned_folder(leftovers.BUILD)
    assert mine.parent == temp and mine.name.startswith(f"{leftovers.BUILD}{os.getpid()}-")
    maker = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom examdash.store import leftovers\n"
                               "for p in leftovers.PREFIXES: print(leftovers.owned_folder(p), flush=True)\n"
                               "sys.stdin.read()"],
        cwd=ROOT, env=env(temp), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    theirs = [Path(maker.stdout.readline().strip()) for _ in leftovers.PREFIXES]
    assert all(p.is_dir() and p.name.startswith(f"{pre}{maker.pid}-") for p, pre in zip(theirs, leftovers.PREFIXES))
    assert sweep.sweep_folders() == 0  # both owners live
    maker.kill()
    maker.wait(WAIT)
    maker.stdout.close()
    maker.stdin.close()

    # this live pid with another start time: a reused pid, its lock free
    reused = temp / f"{leftovers.BUILD}{os.getpid()}-1-reused"
    reused.mkdir()
    (reused / leftovers.OWNER).touch()
    # a pid nobody has, but the lock held: a live owner seen from another pid namespace
    elsewhere = temp / f"{leftovers.READ}999999999-1-held"
    elsewhere.mkdir()
    held = os.open(elsewhere / leftovers.OWNER, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)
    older = temp / "examdash-mirror-k3cmp1u7"  # an earlier version's name: no owner to check
    older.mkdir()
    link = temp / f"{leftovers.MIRROR}999999998-1-link"
    link.symlink_to(older)
    try:
        assert sweep.sweep_folders() == len(theirs) + 1
        assert not any(p.exists() for p in theirs) and not reused.exists()
        assert mine.is_dir() and elsewhere.is_dir() and older.is_dir() and link.is_symlink()
    finally:
        os.close(held)
        leftovers.release(mine)
    assert not mine.exists()


# --- the server: SIGKILL, the next start; SIGTERM --------------------------------------------------------


class Server:
    """`streamlit run serve.py` on `store` with the temp folder `temp`, its output in a file."""

    def __init__(self, store: Path, temp: Path, log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(self.port),
                 "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                cwd=ROOT, env=env(temp, EXAMDASH_DB=str(store)), stdout=out, stderr=subprocess.STDOUT)
        until(lambda: "URL:" in log.read_text(errors="replace") or self.proc.poll() is not None, "the server to start")
        assert self.proc.poll() is None, log.read_text(errors="replace")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def get(self, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=WAIT) as r:
            return r.read().decode()

    def stop(self, signum: int) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(WAIT)


def test_a_killed_server_leaves_nothing_after_the_next_start_and_a_stopped_one_nothing_at_all(store, temp, tmp_path):
    first = Server(store, temp, tmp_path / "first.log")
    try:
        assert "考生成绩查询" in first.get("/lookup")  # a page served: the mirror of the data version is made
        mirror = until(lambda: [p for p in temp.glob(f"{leftovers.MIRROR}{first.pid}-*") if list(p.glob("v*.duckdb"))],
                       "the first server's mirror")[0]
    finally:
        first.stop(signal.SIGKILL)
    assert mirror.is_dir()  # a killed process removes nothing
    assert list(mirror.glob("v*.duckdb"))

    second = Server(store, temp, tmp_path / "second.log")
    try:
        second.get("/lookup")  # its first connection to the store sweeps before the page is answered
        assert not mirror.exists()
        live = until(lambda: list(temp.glob(f"{leftovers.MIRROR}{second.pid}-*")), "the second server's mirror")
        assert sweep.sweep_folders() == 0 and live[0].is_dir()  # a live process's folder stays
    finally:
        code = second.stop(signal.SIGTERM)
    assert code in (-signal.SIGTERM, 0, leftovers.EXIT_SIGTERM), code
    assert sorted(p.name for p in temp.iterdir()) == []  # SIGTERM: nothing of it is left


# --- the command line's import: SIGKILL mid-write, then maintain; SIGTERM ----------------------------------


def _import(store: Path, big: Path, temp: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "examdash", "--db", str(store), "import", "registrations", str(big)],
                            cwd=ROOT, env=env(temp), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_an_import_killed_mid_write_leaves_nothing_after_maintain_and_changes_no_figure(store, big_file, temp):
    before, files, kept = figures(store), parquet(store), originals(store)
    child = _import(store, big_file, temp)
    until(lambda: new_files(store, files) or child.poll() is not None, "the import's first data file")
    child.kill()  # in the middle of its write transaction
    child.wait(WAIT)
    child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert new_files(store, files), "nothing unreferenced left: the kill came too late"
    assert len(originals(store)) == len(kept) + 1  # its kept original, without an import_log row

    con = db.connect(store)
    try:
        done = db.maintain(con, 14)
        assert done["orphan_files"] >= 1 and done["orphan_originals"] == 1, done
        assert {"leftover_folders", "orphan_files", "orphan_originals"} <= set(done)
        assert table_snapshot(con) == before
    finally:
        con.close()
    assert parquet(store) == files and originals(store) == kept
    con = db.connect(store)
    try:  # and again: nothing left to remove
        again = db.maintain(con, 14)
        assert (again["orphan_files"], again["orphan_originals"]) == (0, 0), again
    finally:
        con.close()


def test_an_import_stopped_with_sigterm_exits_normally_and_leaves_nothing(store, big_file, temp):
    before, files, kept = figures(store), parquet(store), originals(store)
    child = _import(store, big_file, temp)
    until(lambda: new_files(store, files) or child.poll() is not None, "the import's first data file")
    child.send_signal(signal.SIGTERM)
    _, errors = child.communicate(timeout=WAIT)
    assert child.returncode == leftovers.EXIT_SIGTERM, errors.decode(errors="replace")  # SystemExit: a normal exit
    assert parquet(store) == files  # rolled back: DuckLake deleted what it had written
    assert originals(store) == kept  # and the import removed the original it had kept
    assert figures(store) == before
    assert list(temp.iterdir()) == []


# --- children whose parent dies ---------------------------------------------------------------------------


def test_the_import_worker_stops_when_its_server_dies_and_commits_nothing(store, big_file, temp):
    before, files, kept = figures(store), parquet(store), originals(store)
    server = textwrap.dedent(f"""
        from pathlib import Path
        from examdash.views import offload
        from examdash.views.imports import Upload
        upload = Upload("报名_补录.csv", Path({str(big_file)!r}).read_bytes())
        offload.build("import_upload", {str(store)!r}, "admin", upload, "registrations", None, False, None, True)
        print("finished", flush=True)
    """)
    parent = subprocess.Popen([sys.executable, "-c", server], cwd=ROOT, env=env(temp), stdout=subprocess.PIPE)
    until(lambda: new_files(store, files) or parent.poll() is not None, "the worker's first data file")
    assert parent.poll() is None
    upload = until(lambda: list(temp.glob(f"{leftovers.UPLOAD}*")), "the worker's upload folder")[0]
    worker = int(upload.name[len(leftovers.UPLOAD):].split("-")[0])
    assert worker in children(parent.pid)
    parent.kill()  # the server dies in the middle of the worker's write
    parent.wait(WAIT)
    parent.stdout.close()
    until(lambda: not leftovers.alive(worker, 0), "the worker to stop by itself")

    assert figures(store) == before  # nothing was committed
    con = db.connect(store)
    try:
        db.maintain(con, 14)  # the dead server's build folder (its request: the whole upload), any orphan
    finally:
        con.close()
    assert parquet(store) == files and originals(store) == kept
    assert list(temp.iterdir()) == []


def test_the_reading_child_exits_when_its_parent_dies(big_file, temp):
    reader = textwrap.dedent(f"""
        from pathlib import Path
        from examdash.importers import isolate
        from examdash.importers.kinds import KINDS
        spec = KINDS["registrations"]
        isolate.read_table(Path({str(big_file)!r}), spec.alias_map, spec.required)
        print("finished", flush=True)
    """)
    parent = subprocess.Popen([sys.executable, "-c", reader], cwd=ROOT, env=env(temp), stdout=subprocess.PIPE)
    until(lambda: list(temp.glob(f"{leftovers.READ}{parent.pid}-*")), "the read's folder")
    child = until(lambda: children(parent.pid) or parent.poll() is not None, "the reading child")
    assert parent.poll() is None, "the read ended before its parent could be killed"
    parent.kill()
    parent.wait(WAIT)
    parent.stdout.close()
    until(lambda: not leftovers.alive(child[0], 0), "the reading child to exit")
    assert sweep.sweep_folders() == 1  # the dead parent's folder (the request, the table read so far)
    assert list(temp.iterdir()) == []


# --- the store: orphaned data files and kept originals -----------------------------------------------------


def test_unreferenced_files_go_at_once_only_when_no_write_can_be_under_way(fresh_db_path):
    con = db.connect(fresh_db_path)
    store = db.store_of(con)
    try:
        some = next(store.data_path.rglob("ducklake-*.parquet"))
        foreign = store.data_path / "notes.parquet"  # not DuckLake's: never touched
        shutil.copyfile(some, foreign)
        folder = imports_dir(store.catalog)
        folder.mkdir(exist_ok=True)
        logged = Path(rows(con, "select stored_path from import_log where stored_path is not null limit 1")[0][0]).name
        (folder / logged).write_text("named by an import_log row")

        def leave(at: float | None = None) -> list[Path]:
            """What a killed import leaves: a data file, its kept original, a copy made while validating."""
            stamp = time.time_ns() if at is None else int(at * 1e9)
            made = [some.with_name(f"ducklake-{stamp}.parquet"), folder / f"{stamp % 10**16:016x}_报名.csv",
                    folder / f".{stamp}_报名.csv.part"]
            shutil.copyfile(some, made[0])
            for p in made[1:]:
                p.write_text("考试批次,身份证号")
            if at is not None:
                for p in made:
                    os.utime(p, (at, at))
            return made

        fresh = leave()
        # the write lock busy (another writer may be half-way): only what is older than the margin goes
        assert sweep.sweep_store(con, locked=False) == {"orphan_files": 0, "orphan_originals": 0}
        old = leave(time.time() - sweep.MARGIN.total_seconds() - 60)
        assert sweep.sweep_store(con, locked=False) == {"orphan_files": 1, "orphan_originals": 2}
        assert not any(p.exists() for p in old) and all(p.exists() for p in fresh)
        # under the write lock no write is under way: every orphaned data file goes; an import holding the
        # import lock may have copied its original aside already, so the originals wait for it
        with sweep.importing(con), lake.write_lock(store):
            assert sweep.sweep_store(con, locked=True) == {"orphan_files": 1, "orphan_originals": 0}
        with lake.write_lock(store):
            assert sweep.sweep_store(con, locked=True) == {"orphan_files": 0, "orphan_originals": 2}
        assert not any(p.exists() for p in fresh)
        assert foreign.exists() and (folder / logged).exists()
        # another store whose originals share the folder (exam.duckdb beside exam.ducklake): left alone
        other = Path(store.catalog).with_suffix(".duckdb")
        other.touch()
        stray = leave()[1]
        with lake.write_lock(store):
            assert sweep.sweep_store(con, locked=True)["orphan_originals"] == 0
        assert stray.exists()
    finally:
        con.close()


def test_a_restore_sets_aside_the_originals_of_later_imports_and_maintain_keeps_them(fresh_db_path, tmp_path):
    """Imports made after a backup are undone by restoring it; their kept originals are what the operator would
    import again: moved aside by the restore, never removed as a killed import's leftovers."""
    from examdash.importers import import_file

    cli = lambda *args: subprocess.run([sys.executable, "-m", "examdash", "--db", str(fresh_db_path), *args], cwd=ROOT,
                                       capture_output=True, text=True)
    backup = tmp_path / "backup"
    assert cli("backup", str(backup)).returncode == 0
    extra = tmp_path / "later.csv"
    demo.write_csv(demo.make_registrations(demo.make_world(), 10, "2023-2", seed=5).assign(准考证号=""), extra)
    con = db.connect(fresh_db_path)
    try:
        assert import_file(con, "registrations", extra, actor="t", db_file=fresh_db_path).ok
    finally:
        con.close()
    originals = imports_dir(fresh_db_path)
    later = [p.name for p in originals.iterdir() if p.is_file() and p.name.endswith("_later.csv")]
    assert len(later) == 1
    restored = cli("restore", "--force", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "1 个原件已移到" in restored.stdout
    assert cli("maintain").returncode == 0
    kept = list(originals.glob(f"restored_*/{later[0]}"))
    assert len(kept) == 1 and not (originals / later[0]).exists()
