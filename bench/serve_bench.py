"""Serving benchmark without browsers: the real server driven through Streamlit's agent API.

    .venv/bin/python bench/serve_bench.py [--sessions 1,5,20,50] [--seconds 15] [--roles school,staff]
                                          [--profile DIR] [--import-rows 200000 | --no-import]

Starts, on a copy of the demo store (its accounts given passwords of their own, as a store of real data
must have), the app with `--server.enableAgentApi=true` (only this bench's servers; `make run` never
turns it on) and, beside it, a one-line Streamlit app: Streamlit's own floor on this machine. Then, per
row, N sessions at once: a school leader cycling 本校成绩 / 本校费用 / 成绩复核申请, or a staff member
cycling the organiser pages, or a session of the one-line app rerunning; each request is one script run
(a page switch), sent as soon as the last one came back. Prints runs/s, p50 and p95 of the request time
and errors per row, then the ratios the serving targets are stated in:

    school page runs/s at 1 session  >= 0.6 x the one-line app's
    staff page runs/s at 1 session   >= 0.4 x the one-line app's
    runs/s at 20 sessions            >= 0.8 x the same role at 1 session

With --import-rows (default), the 20-session rows run once more while an admin imports a registration
file of that many rows through the 导入 page in a headless Chromium (uploads are what the agent API cannot
do). With --profile DIR the server is sampled with py-spy during the 20-session rows: the raw stacks go to
DIR and the entries of our code that take the most samples are printed.

The JSON client costs little CPU, but it runs on the same 2 cores as the server: the figures are for
this machine, side by side in one run, not absolute. Exit code 0 even when a target is missed.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from examdash import demo  # noqa: E402
from examdash.store import db, lake  # noqa: E402

INTERACT = "/_stcore/agent/interact"
FLOOR_APP = 'import streamlit as st\n\nst.write("ok")\n'
ENTRY = "serve.py"  # what `make run` serves
TARGETS = {"school": 0.6, "staff": 0.4}
SCALING = 0.8
OURS = ("examdash/", "app_pages/", "app.py", "serve.py")


def password(username: str) -> str:
    return f"Bench-{username}-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(script: Path, env: dict, cwd: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.enableAgentApi", "true", "--server.fileWatcherType", "none",
         # every row opens new sessions (about 200 in a whole run); the agent API holds 100 by default
         "--server.agentMaxSessions", "1000"],
        cwd=cwd, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "URL:" in line:
            break
    if proc.poll() is not None:
        raise SystemExit("streamlit did not start:\n" + "".join(seen))
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # keep the pipe drained
    return proc, port


class Client:
    """One agent-API session over one kept-alive connection."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.session: str | None = None

    def post(self, body: dict) -> tuple[int, bytes]:
        if self.session:
            body = {"session_id": self.session, **body}
        data = json.dumps(body)
        try:
            self.conn.request("POST", INTERACT, data, {"Content-Type": "application/json"})
            response = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # the server closed the kept-alive connection while this session waited: same session, new connection
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.conn.host, self.conn.port, timeout=300)
            self.conn.request("POST", INTERACT, data, {"Content-Type": "application/json"})
            response = self.conn.getresponse()
        return response.status, response.read()

    def open(self, username: str | None) -> list[str]:
        """Create the session (and sign in); the pages it may switch between."""
        status, raw = self.post({})
        snap = json.loads(raw)
        if "session_id" not in snap:
            raise RuntimeError(f"no session: HTTP {status} {raw[:300]!r}")
        self.session = snap["session_id"]
        if username:
            status, raw = self.post({"widget_state": {"login_username": username, "login_password": password(username)},
                                     "trigger": {"key": "login_submit"}})
            snap = json.loads(raw)
            if status != 200 or snap.get("status") != "ready" or snap["page"]["title"] == "登录":
                raise RuntimeError(f"{username} could not sign in: {status} {raw[:300]!r}")
        return [p["url_path"] for p in snap["pages"]]


@dataclass
class Row:
    app: str
    role: str
    sessions: int
    note: str = ""
    times: list[float] = field(default_factory=list)
    errors: collections.Counter = field(default_factory=collections.Counter)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.times) / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        return quantile(self.times, q)


def quantile(times: list[float], q: float) -> float:
    if len(times) < 2:
        return times[0] if times else float("nan")
    return statistics.quantiles(times, n=100, method="inclusive")[int(q * 100) - 1]


def drive(port: int, role: str, sessions: int, seconds: float, note: str = "", on_open=None) -> Row:
    """N sessions at once for `seconds` after all have signed in; each sends its next run when the last
    one came back. `on_open()` is called when the measured window opens (another load measured over the
    same window)."""
    row = Row("one-line app" if role == "floor" else "this app", role, sessions, note)
    users = {"school": ["school1", "school2", "school3"], "staff": ["staff"], "floor": [None]}[role]
    lock = threading.Lock()
    window: dict[str, float] = {}

    def open_window() -> None:  # run once, when every session has signed in, before any is let go
        window["start"] = time.monotonic()
        window["end"] = window["start"] + seconds
        if on_open is not None:
            on_open()

    ready = threading.Barrier(sessions + 1, action=open_window)

    def session(k: int) -> None:
        client = Client(port)
        try:
            pages = client.open(users[k % len(users)])
        except Exception as exc:  # noqa: BLE001 - a session that cannot start is counted, the others go on
            with lock:
                row.errors[f"start: {type(exc).__name__}: {str(exc)[:80]}"] += 1
            ready.wait()
            return
        ready.wait()
        i = k
        while time.monotonic() < window["end"]:
            i += 1
            body = {} if role == "floor" else {"page": pages[i % len(pages)]}
            t0 = time.monotonic()
            try:
                status, raw = client.post(body)
                head = raw[:4000].replace(b" ", b"")
                ok = status == 200 and b'"status":"ready"' in head
                problem = None if ok else f"HTTP {status}: {raw[:100]!r}"
            except Exception as exc:  # noqa: BLE001 - counted; the session goes on with its next request
                problem = f"{type(exc).__name__}: {str(exc)[:80]}"
            elapsed = time.monotonic() - t0
            with lock:
                if problem:
                    row.errors[problem] += 1
                elif t0 + elapsed <= window["end"]:
                    row.times.append(elapsed)

    threads = [threading.Thread(target=session, args=(k,), daemon=True) for k in range(sessions)]
    for t in threads:
        t.start()
    ready.wait()
    for t in threads:
        t.join(timeout=seconds + 600)
    row.seconds = seconds
    print(f"  {row.app}, {role}, {sessions} sessions: {len(row.times)} runs, {row.rate:.1f} runs/s, "
          f"p95 {1000 * row.quantile(0.95):.0f} ms, {sum(row.errors.values())} errors {note}", file=sys.stderr, flush=True)
    return row


def prepare_store(folder: Path) -> Path:
    source = ROOT / "data" / "demo.ducklake"
    store = folder / "serve.ducklake"
    if source.exists():
        lake.copy_store(source, store)
    else:
        subprocess.run([sys.executable, "-m", "examdash", "--db", str(store), "demo", "--out", str(folder / "exports")],
                       cwd=ROOT, check=True, capture_output=True)
    con = db.connect(store)
    try:
        demo.retire_published_passwords(con, password, "bench")
    finally:
        con.close()
    return store


def importer(port: int, upload: Path, report: dict) -> None:
    """An admin imports a registration file through the 导入 page in headless Chromium."""
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(600_000)
            page.goto(f"http://127.0.0.1:{port}/imports")
            page.get_by_label("用户名").fill("admin")
            page.get_by_label("密码").fill(password("admin"))
            page.get_by_role("button", name="登录").click()
            page.get_by_role("heading", name="导入").first.wait_for()
            page.locator('[data-testid="stMain"]').get_by_role("combobox", name="文件类型").click()
            page.get_by_role("option", name="报名（registrations）", exact=True).click()
            report["started"] = time.monotonic()
            page.locator('input[type="file"]').set_input_files(str(upload))
            page.get_by_role("button", name="确认导入").wait_for()
            report["checked_s"] = time.monotonic() - report["started"]
            settled(page)
            main = page.locator('[data-testid="stMain"]')
            for tick in ("我已检查", "我已核对"):  # warnings or impacts on linked rows: confirmed as a user would
                box = main.get_by_text(tick)
                if box.count():
                    box.first.click()
                    settled(page)
            for attempt in range(3):  # a click that lands while the page reruns can be lost: look, then click again
                settled(page)
                page.get_by_role("button", name="确认导入").click(timeout=120_000)
                try:
                    page.get_by_text("已写入").first.wait_for(timeout=180_000)
                    break
                except Exception:  # noqa: BLE001 - tried again below, reported if it never comes
                    if attempt == 2:
                        raise
            report["imported_s"] = time.monotonic() - report["started"]
            browser.close()
    except Exception as exc:  # noqa: BLE001 - reported in the table's notes
        report["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"


def settled(page) -> None:
    """Until Streamlit has finished the script run the page started."""
    page.wait_for_load_state("networkidle")
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=300_000)


def profile(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--duration",
                             str(int(seconds)), "--rate", "100", "--format", "raw", "--output", str(out),
                             "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def top_entries(raw: Path, limit: int = 15) -> list[tuple[str, float]]:
    """Share of all samples whose stack passes through each function of our code (inclusive)."""
    total, inclusive = 0, collections.Counter()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        names = set()
        for frame in stack.split(";"):
            where = frame.rpartition(" (")[2].replace(str(ROOT) + "/", "")
            if where.startswith(OURS):  # our files only (py-spy names them from the working folder)
                name = frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0].split("/main/")[-1] + ")" \
                    if " (" in frame else frame
                names.add(name.replace(str(ROOT) + "/", ""))
        for name in names:
            inclusive[name] += n
    return [(name, 100 * n / total) for name, n in inclusive.most_common(limit)] if total else []


def main() -> None:
    ap = argparse.ArgumentParser(description="Serving benchmark through the agent API")
    ap.add_argument("--sessions", default="1,5,20,50")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--roles", default="school,staff")
    ap.add_argument("--profile", type=Path)
    ap.add_argument("--import-rows", type=int, default=200_000)
    ap.add_argument("--no-import", action="store_true")
    args = ap.parse_args()
    counts = [int(x) for x in args.sessions.split(",")]
    roles = args.roles.split(",")

    work = Path(tempfile.mkdtemp(prefix="serve_bench_"))
    rows: list[Row] = []
    procs = []
    try:
        store = prepare_store(work)
        floor_script = work / "floor.py"
        floor_script.write_text(FLOOR_APP, encoding="utf-8")
        app, app_port = start(ROOT / ENTRY, {"EXAMDASH_DB": str(store)}, ROOT)
        floor, floor_port = start(floor_script, {}, work)
        procs = [app, floor]
        print(f"serving benchmark: {os.cpu_count()} cores, {args.seconds:.0f} s per row, store {store}")
        for n in counts:
            rows.append(drive(floor_port, "floor", n, args.seconds))
        for role in roles:
            drive(app_port, role, 1, 3)  # warm the caches a first visit fills
            for n in counts:
                spy = None
                if args.profile and n == 20:
                    args.profile.mkdir(parents=True, exist_ok=True)
                    spy = profile(app.pid, args.seconds, args.profile / f"{role}_20.txt")
                rows.append(drive(app_port, role, n, args.seconds))
                if spy:
                    spy.wait(timeout=args.seconds + 60)
        if not args.no_import and 20 in counts:
            uploads = {}
            for k, role in enumerate(roles):  # a file of new candidates per row: the same file again would change nothing
                uploads[role] = work / f"追加报名_{role}_{args.import_rows}.csv"
                frame = demo.make_registrations(demo.make_world(), args.import_rows, "2023-2", seed=2026 + k)
                demo.write_csv(frame.assign(准考证号=""), uploads[role])
            for role in roles:
                report: dict = {}
                t = threading.Thread(target=importer, args=(app_port, uploads[role], report), daemon=True)
                t.start()
                while "started" not in report and t.is_alive():
                    time.sleep(0.2)
                row = drive(app_port, role, 20, args.seconds, note=f"during a {args.import_rows:,}-row import")
                t.join(timeout=900)
                if "error" in report:
                    row.note += f" (import failed: {report['error']})"
                else:
                    row.note += f" (checked {report.get('checked_s', float('nan')):.1f} s, written " \
                                f"{report.get('imported_s', float('nan')):.1f} s after the upload)"
                rows.append(row)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"{'app':<14}{'role':<8}{'sessions':>9}{'runs':>7}{'runs/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}  note")
    for r in rows:
        print(f"{r.app:<14}{r.role:<8}{r.sessions:>9}{len(r.times):>7}{r.rate:>9.1f}{1000 * r.quantile(0.5):>9.0f}"
              f"{1000 * r.quantile(0.95):>9.0f}{sum(r.errors.values()):>8}  {r.note}")
        for problem, k in r.errors.most_common(3):
            print(f"{'':<14}{k} x {problem}")
    print()
    by = {(r.role, r.sessions, r.note): r for r in rows}
    floor1 = by.get(("floor", 1, ""))
    for role in roles:
        one, twenty = by.get((role, 1, "")), by.get((role, 20, ""))
        if floor1 and one:
            ratio = one.rate / floor1.rate
            verdict = "ok" if ratio >= TARGETS[role] else "missed"
            print(f"{role}: 1 session {one.rate:.1f} runs/s = {ratio:.2f} x the one-line app's {floor1.rate:.1f} "
                  f"(target >= {TARGETS[role]}) {verdict}")
        if one and twenty:
            ratio = twenty.rate / one.rate
            verdict = "ok" if ratio >= SCALING else "missed"
            print(f"{role}: 20 sessions {twenty.rate:.1f} runs/s = {ratio:.2f} x 1 session (target >= {SCALING}), "
                  f"p95 {1000 * twenty.quantile(0.95):.0f} ms {verdict}")
    if args.profile:
        for raw in sorted(args.profile.glob("*_20.txt")):
            print(f"\nprofile {raw.name} (share of samples through each function of our code):")
            for name, share in top_entries(raw):
                print(f"  {share:5.1f}%  {name}")


if __name__ == "__main__":
    main()
