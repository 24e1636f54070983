"""Building a large file (the all-statements .zip, a whole-batch .xlsx), or running an import, in a
child process.

Writing a workbook is pure Python (xlsxwriter, cell by cell) and holds the GIL: built in the serving
process, the 6-second .zip of all statements slows every other session's page runs for those seconds.
The caller runs the queries (DuckDB works without the GIL), hands the frames to a fresh interpreter and
waits on it without the GIL; the child reports progress through a small file the caller reads.

Only builders named in BUILDERS run in the child, with arguments the caller pickled into a private
temporary folder. The folder is the caller's (store/leftovers.py: named for it, locked by it) and goes
when the build ends, when the caller's process ends (the children still running are stopped first), or,
when it was killed, at the next start of the app or `maintain`. The child deletes the pickled request (a
whole upload, ID numbers and all) as soon as it has read it, and stops when its parent dies
(leftovers.watch_parent): SIGTERM, a normal exit, so an import it runs rolls back.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from examdash import config
from examdash.store import leftovers

Progress = Callable[[float, str], None]

# name -> "module:function"; the function takes (*args, progress=...) and returns bytes
BUILDERS = {
    "statements_zip": "examdash.views.fees:zip_statements",
    "table_xlsx": "examdash.views.exports:table_xlsx",
    "import_upload": "examdash.views.imports:import_in_worker",
}
_CHILD = "import sys; from examdash.views.offload import child_main; child_main(*sys.argv[1:])"
POLL = 0.25  # seconds between looks at the child's progress
STOP_SECONDS = 10.0  # at exit, how long a running child has to end after SIGTERM before it is killed
_children: dict[int, subprocess.Popen] = {}  # running children of this process, stopped at its exit
_children_lock = threading.Lock()


class BuildError(RuntimeError):
    """The child failed; the message is for the user, in Chinese."""


def _progress_writer(folder: Path) -> Progress:
    last = [0.0]

    def report(fraction: float, text: str) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and fraction < 1:
            return
        last[0] = now
        tmp = folder / "progress.tmp"
        tmp.write_text(json.dumps({"fraction": float(fraction), "text": text}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / "progress.json")

    return report


def child_main(folder: str, parent: str | None = None) -> None:
    leftovers.exit_on_sigterm()  # SIGTERM (the parent's death, its exit): finally blocks run, a write rolls back
    if parent is not None:
        leftovers.watch_parent(int(parent))
    where = Path(folder)
    request = where / "request.pickle"
    name, args = pickle.loads(request.read_bytes())
    request.unlink()  # the upload it may hold stays on disk no longer than needed
    module, _, function = BUILDERS[name].partition(":")
    build = getattr(importlib.import_module(module), function)
    data = build(*args, progress=_progress_writer(where))
    (where / "out.tmp").write_bytes(data)
    os.replace(where / "out.tmp", where / "out.bin")


def build(name: str, *args, progress: Progress | None = None, seconds: float = 900) -> bytes:
    """BUILDERS[name](*args) run in a child process; `progress(fraction, text)` is called as it reports."""
    if name not in BUILDERS:
        raise ValueError(f"unknown builder {name!r}")
    progress = progress or (lambda fraction, text: None)
    try:
        folder = leftovers.owned_folder(leftovers.BUILD)
    except leftovers.Exiting as exc:
        raise BuildError(str(exc)) from None
    child = None
    try:
        (folder / "request.pickle").write_bytes(pickle.dumps((name, args), protocol=5))
        with (folder / "stderr.txt").open("wb") as errors:
            child = subprocess.Popen([sys.executable, "-c", _CHILD, str(folder), str(os.getpid())], cwd=config.ROOT,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors)
            with _children_lock:
                _children[child.pid] = child
            deadline = time.monotonic() + seconds
            seen = None
            while child.poll() is None:
                if time.monotonic() > deadline:
                    _stop([child])  # SIGTERM first: an import rolls back
                    raise BuildError(f"生成文件超过 {seconds:g} 秒仍未完成，已中止")
                time.sleep(POLL)  # the GIL is free meanwhile
                seen = _report(folder, seen, progress)
        if child.returncode != 0 or not (folder / "out.bin").exists():
            try:
                tail = (folder / "stderr.txt").read_text(encoding="utf-8", errors="replace")[-2000:]
            except OSError:  # the process is ending: its folders went first
                tail = ""
            raise BuildError(f"生成文件失败（子进程退出码 {child.returncode}）：{tail.strip().splitlines()[-1] if tail.strip() else '无输出'}")
        progress(1.0, "已完成")
        return (folder / "out.bin").read_bytes()
    finally:
        if child is not None:
            with _children_lock:
                _children.pop(child.pid, None)
            if child.poll() is None:  # left by an exception (the caller's SIGTERM): the child goes too
                _stop([child])
        leftovers.release(folder)


def _stop_children() -> None:
    """At this process's end (atexit, or SIGTERM reaching the server): every running child gets SIGTERM
    (an import rolls back and removes its folders), then SIGKILL after STOP_SECONDS; the build folders go
    after (leftovers releases them)."""
    with _children_lock:
        running = list(_children.values())
    _stop(running)


def _stop(running: list[subprocess.Popen]) -> None:
    for child in running:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for child in running:
        try:
            child.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


leftovers.at_exit(_stop_children)


def _report(folder: Path, seen, progress: Progress):
    try:
        state = json.loads((folder / "progress.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return seen
    if state != seen:
        progress(state["fraction"], state["text"])
    return state
