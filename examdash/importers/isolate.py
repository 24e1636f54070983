"""Reading an uploaded file in a child process with memory and time limits.

A hostile file can only fail its own read: a zip bomb that gets past the size checks runs into the
child's memory limit, a reader that loops into its time limit, and a reader that crashes (calamine
aborts the process when an allocation fails) takes only the child with it. The server's process
meanwhile waits on the child without holding the GIL, so other sessions' pages answer.

The child is a fresh interpreter (`python -c`), not a multiprocessing fork: inside Streamlit the main
module is the app's script, which multiprocessing would run again in its children. Starting it costs
about 0.4 s. The table comes back as an Arrow IPC file in a private temporary folder, memory-mapped by
the parent: a million rows arrive without pickling the text. That folder is the parent's
(store/leftovers.py: named for it and locked by it; removed when the read ends, when the parent exits, or,
when it was killed, at the next start of the app or `maintain`), and the child, which writes nothing else,
is killed when its parent dies (leftovers.watch_parent, SIGKILL).
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa

from examdash import config
from examdash.importers.reading import RawTable, ReadError
from examdash.importers.reading import read_table as read_in_process
from examdash.store import leftovers

_LOG = logging.getLogger("examdash")
_CHILD = "import sys; from examdash.importers.isolate import child_main; child_main(*sys.argv[1:])"


def child_main(folder: str, memory_mb: str, seconds: str, parent: str | None = None) -> None:
    """The child's whole life: its parent watched, limits, then the read; the answer is written into `folder`."""
    if parent is not None:  # before the memory limit: the watching thread needs its stack
        leftovers.watch_parent(int(parent), signal.SIGKILL)
    limit = int(memory_mb) << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (int(seconds), int(seconds) + 1))
    where = Path(folder)
    path, aliases, required, sheet = pickle.loads((where / "request.pickle").read_bytes())
    try:
        raw = read_in_process(Path(path), aliases, required, sheet)
        names = list(raw.columns)
        table = pa.table({f"c{k}": _arrow(raw.columns[f]) for k, f in enumerate(names)} or {"_": pa.array([], pa.int8())})
        with pa.OSFile(str(where / "table.arrow"), "wb") as sink, pa.ipc.new_file(sink, table.schema) as out:
            out.write_table(table)
        raw.columns = {}
        answer = ("ok", (raw, names))
    except ReadError as exc:
        answer = ("error", str(exc))
    except MemoryError:
        answer = ("memory", None)
    except Exception as exc:  # a reader's own failure on a damaged file: say so, as the in-process read would
        answer = ("error", f"无法读取文件（{type(exc).__name__}: {str(exc)[:200]}）")
    (where / "answer.pickle").write_bytes(pickle.dumps(answer))


def _arrow(s: pd.Series) -> pa.ChunkedArray:
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        return pa.chunked_array(s.array.__arrow_array__()).cast(pa.large_string())
    return pa.chunked_array([pa.array(s.astype(object).where(s.notna(), None).tolist(), pa.large_string())])


def read_table(path: Path, aliases: dict[str, str], required: set[str], sheet: str | None = None, *,
               memory_mb: int | None = None, seconds: float | None = None) -> RawTable:
    """reading.read_table in a child process limited to `memory_mb` of address space and `seconds` (CPU
    time, and wall clock with a margin for starting). A file that hits a limit or crashes the reader is
    a ReadError in Chinese."""
    memory_mb = int(memory_mb or config.parse_memory_mb())
    seconds = float(seconds or config.parse_seconds())
    folder = leftovers.owned_folder(leftovers.READ)
    too_slow = f"读取文件超过 {seconds:g} 秒仍未完成，已中止：文件可能已损坏，或含有异常内容"
    child = None
    try:
        (folder / "request.pickle").write_bytes(pickle.dumps((str(path), dict(aliases), set(required), sheet)))
        with (folder / "stderr.txt").open("wb") as errors:
            child = subprocess.Popen([sys.executable, "-c", _CHILD, str(folder), str(memory_mb), str(max(1, round(seconds))),
                                      str(os.getpid())],
                                     cwd=config.ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            child.communicate(timeout=seconds + 10)  # the CPU limit comes first; this covers a child stuck waiting
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise ReadError(too_slow) from None
        answer_file = folder / "answer.pickle"
        if child.returncode == -signal.SIGXCPU:
            raise ReadError(too_slow)
        if child.returncode != 0 or not answer_file.exists():
            # A signal (an abort after a failed allocation, a crash) or an uncaught error: the details for the log.
            _LOG.warning("reading %s in a child failed (exit %s): %s", path, child.returncode,
                         (folder / "stderr.txt").read_text(errors="replace")[-2000:])
            raise ReadError(f"读取文件时内存超出上限（{memory_mb:,} MB）或读取器异常退出，已中止：文件可能是压缩炸弹或已损坏"
                            f"（子进程退出码 {child.returncode}）")
        status, payload = pickle.loads(answer_file.read_bytes())
        if status == "memory":
            raise ReadError(f"读取文件时内存超出上限（{memory_mb:,} MB），已中止：文件可能是压缩炸弹，或过大")
        if status == "error":
            raise ReadError(payload)
        raw, names = payload
        table = pa.ipc.open_file(pa.memory_map(str(folder / "table.arrow"))).read_all()
        raw.columns = {f: pd.Series(pd.array(table.column(k), dtype="str")) for k, f in enumerate(names)}
        return raw
    finally:
        if child is not None and child.poll() is None:  # an exception here (SIGTERM): the reader goes too
            child.kill()
            child.wait()
        leftovers.release(folder)  # a memory map keeps its pages after the unlink
