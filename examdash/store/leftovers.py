"""A process's own temp folders, and removing them on every exit the process can catch. What a process
killed outright (SIGKILL, a power cut) left is removed later, by store/sweep.py.

What a process leaves while it works: temp folders of its own (`owned_folder`), in the temp folder
(TMPDIR): the per-process mirror (`examdash-mirror-`, store/mirror.py: copies of results with ID numbers),
a file built in a child (`examdash_build_`, views/offload.py: the pickled request holds a whole upload),
the read of an upload (`examdash_read_`, importers/isolate.py) and the upload as the import worker wrote it
(`examdash_upload_`, views/imports.py). Each is named for its owner (`<prefix><pid>-<start>-<random>`) and
holds `.owner`, locked (flock) by the owner for the folder's whole life: store/sweep.py removes it only
once its owner is provably dead. (What a write that did not get to its commit leaves in the store is
described, and removed, there too.)

A process removes its own on every exit it can catch: normal exit and exceptions (`finally`, then
`atexit`: `release`, the hooks of `at_exit`), SIGINT (KeyboardInterrupt) and SIGTERM: `exit_on_sigterm`
turns it into a normal exit (SystemExit 143) in a plain process, and in the Streamlit server, whose
uvicorn catches SIGTERM, shuts down gracefully and then raises it again with the default action (the
process dies there, atexit never runs: measured), it runs the exit hooks as the signal arrives, before
handing it on. A write transaction cut short by an exception rolls back, and DuckLake deletes the files it
wrote. SIGKILL (and a power cut) cannot be caught: what such a process left is removed later
(store/sweep.py).

A child stops when its parent dies (`watch_parent`): PR_SET_PDEATHSIG on Linux, and a thread that sees
the parent pid change (any system); the import worker gets SIGTERM, a normal exit: its write rolls back
(the signal is acted on at the first Python instruction after the DuckDB call under way, so a commit not
yet begun never starts), and it removes its folders; if it is still there after STOP_GRACE it ends at
once (nothing committed; the sweep, store/sweep.py, removes the rest). The reading child, which writes
nothing, gets SIGKILL.
"""

from __future__ import annotations

import atexit
import ctypes
import fcntl
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

MIRROR, BUILD, READ, UPLOAD = "examdash-mirror-", "examdash_build_", "examdash_read_", "examdash_upload_"
PREFIXES = (MIRROR, BUILD, READ, UPLOAD)
OWNER = ".owner"  # the lock file in each owned folder, held (flock) by its owner
POLL = 0.5  # seconds between a child's looks at its parent
STOP_GRACE = 30.0  # seconds a child whose parent died has to end by itself before it is ended at once
EXIT_SIGTERM = 128 + signal.SIGTERM
_LOG = logging.getLogger("examdash")


class Exiting(RuntimeError):
    """The process is ending: no new work that would leave a folder behind."""


# --- this process's own: folders, exit hooks, signals ---------------------------------------------------

_lock = threading.Lock()
_owned: dict[str, int] = {}  # folder -> the fd of its locked .owner
_hooks: list[Callable[[], None]] = []
_state = {"exiting": False, "terminating": False}
_starts: dict[int, int] = {}


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) of a process from /proc, or None when there is none."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(b")") + 2:].split()  # after the command name, which may hold spaces
    return fields[0].decode(), int(fields[19])  # fields 3 (state) and 22 (starttime) of proc(5)


_HAS_PROC = _proc_stat(os.getpid()) is not None


def _own_start() -> int:
    pid = os.getpid()
    if pid not in _starts:
        found = _proc_stat(pid) if _HAS_PROC else None
        _starts[pid] = found[1] if found else 0
    return _starts[pid]


def alive(pid: int, start: int) -> bool:
    """Whether the process `pid` that started at `start` (0: unknown) still runs. A zombie has ended."""
    if _HAS_PROC:
        found = _proc_stat(pid)
        return found is not None and found[0] not in ("Z", "X") and (start == 0 or found[1] == start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def owned_folder(prefix: str) -> Path:
    """A new private temp folder of this process, named for it (<prefix><pid>-<start>-<random>) and
    locked by it until `release` (or the process's end). Raises Exiting once the process is ending."""
    if _state["exiting"]:
        raise Exiting("服务正在停止，未开始新的工作，请稍后重试")
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-{_own_start()}-"))
    fd = os.open(folder / OWNER, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    with _lock:
        _owned[str(folder)] = fd
    return folder


def release(folder: str | os.PathLike) -> None:
    """Remove an owned folder, then let go of its lock (a sweep never sees it unlocked while it is there)."""
    with _lock:
        fd = _owned.pop(str(folder), None)
    shutil.rmtree(folder, ignore_errors=True)
    if fd is not None:
        os.close(fd)


def at_exit(hook: Callable[[], None]) -> None:
    """Run `hook` once when the process ends (atexit), or as a server's SIGTERM arrives: stop what writes
    into an owned folder (threads, children) and remove it. Hooks run newest first, then every folder
    still owned is released."""
    with _lock:
        _hooks.append(hook)


def exiting() -> bool:
    return _state["exiting"]


def terminated() -> bool:
    """Whether SIGTERM reached this process (exit_on_sigterm): DuckDB's Python client sees the signal while
    a query runs and ends it with RuntimeError("Query interrupted") instead of the SystemExit the handler
    raised; the caller then exits with EXIT_SIGTERM all the same."""
    return _state["terminating"]


def run_exit_hooks() -> None:
    with _lock:
        _state["exiting"] = True
        hooks = _hooks[::-1]
        _hooks.clear()
    for hook in hooks:
        try:
            hook()
        except Exception:  # one hook's failure never keeps the others from running
            _LOG.exception("clean-up at exit failed")
    for folder in list(_owned):
        release(folder)


def _forked() -> None:
    """A forked child owns nothing of its parent's: its exit must not remove the parent's folders."""
    _owned.clear()
    _hooks.clear()


atexit.register(run_exit_hooks)
os.register_at_fork(after_in_child=_forked)


def _exit_normally(signum, frame) -> None:
    if _state["terminating"]:  # a second SIGTERM: the default action, at once
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    _state["terminating"] = True
    raise SystemExit(128 + signum)


def exit_on_sigterm() -> bool:
    """Make SIGTERM an exit that cleans up. Called on the main thread (elsewhere it does nothing and
    returns False). With the default action in place (the command line, a child, any plain process)
    SIGTERM raises SystemExit(143) on the main thread: `finally` blocks and atexit run, a write
    transaction rolls back; a second SIGTERM ends the process at once. With a handler in place (uvicorn's,
    in the Streamlit server: graceful shutdown, then the signal again with the default action, which ends
    the process before atexit), that handler is kept and the exit hooks run first, as the signal arrives."""
    if threading.current_thread() is not threading.main_thread():
        return False
    previous = signal.getsignal(signal.SIGTERM)
    if previous is signal.SIG_IGN or getattr(previous, "_examdash", False):
        return True
    if callable(previous):
        def handler(signum, frame):
            try:
                run_exit_hooks()
            finally:
                previous(signum, frame)
    else:
        handler = _exit_normally
    handler._examdash = True  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, handler)
    return True


def watch_parent(parent: int, signum: int = signal.SIGTERM) -> None:
    """End this child when `parent` (the pid that started it) ends: the kernel sends `signum` at the
    parent's death (Linux, PR_SET_PDEATHSIG); elsewhere, or when the parent died before this ran, a thread
    that sees the parent pid change sends it. SIGTERM is a normal exit here (exit_on_sigterm); if the
    process is still there STOP_GRACE later (a long DuckDB call under way), that thread removes its
    folders and ends it at once."""
    if signum == signal.SIGTERM:
        exit_on_sigterm()
    by_kernel = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            by_kernel = libc.prctl(1, int(signum), 0, 0, 0) == 0  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch, args=(parent, signum, by_kernel), name="examdash-parent", daemon=True).start()


def _watch(parent: int, signum: int, by_kernel: bool) -> None:
    pause = threading.Event()
    if os.getppid() == parent:
        while os.getppid() == parent:
            pause.wait(POLL)
        if not by_kernel:
            os.kill(os.getpid(), signum)
    else:  # the parent was gone before the kernel was asked to tell
        os.kill(os.getpid(), signum)
    pause.wait(STOP_GRACE)  # a normal exit ends this daemon thread with the process
    for folder in list(_owned):
        release(folder)
    os._exit(EXIT_SIGTERM)
