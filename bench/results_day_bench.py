"""Results-day benchmark: the candidates' 成绩查询 (/lookup) at the publicity-week peak, beside school leaders.

    .venv/bin/python bench/results_day_bench.py [--candidates 1,10,50] [--sessions 20] [--seconds 15]
                                                [--think 0.3] [--postgres | --no-postgres] [--demo STORE]

Starts the real server (serve.py, with `--server.enableAgentApi=true` and EXAMDASH_TRUST_PROXY=1) on a copy
of the demo store, its accounts given passwords of their own (bench/serve_bench.py's prepare_store; the demo
pins the day to 2023-06-14, inside batch 2023-1's publicity week). Then, per row of --seconds:

- N school-leader sessions alone (default 20), cycling 本校成绩 / 本校费用 / 成绩复核申请 through the agent
  API exactly as serve_bench's school role does: school page runs/s;
- the same N sessions beside 1, 10 and 50 candidate clients. A candidate client is one thread with one
  kept-alive connection, one visitor after another with a pause of 0.3 s on average between them (exponential;
  --think 0 sends the next as soon as the last was answered): a visitor's `GET /lookup` (the form,
  its cookie examdash_lookup and its hidden csrf token), then `POST /lookup` with the token, the cookie, a
  ticket and an ID number. Every visitor comes from an address of its own in X-Forwarded-For (10.77.x.y
  onwards), so the throttle, which counts failures per address, never locks one. The candidates are the
  store's own (batch 2023-1's results, read once): 90% of the posts carry the right ID number (now and
  then with a lower-case x or spaces), which must answer 200 with the ticket and the total with one
  decimal; 10% a wrong one (one digit changed, check character recomputed), which must answer 200 with
  未查到成绩. Any other answer, 查询失败次数过多 included, is a wrong answer; another HTTP status or a
  connection error is an error.

Runs/s, lookups/s (POSTs completed per second) and the POST's p50 / p95 are measured over the same
window: from the moment every school session has signed in, for --seconds (the candidates are already
running while the sessions sign in). Wrong answers and errors are counted over the whole row. The lake's
snapshots are counted before and after each row: serving pages and lookups must add none.

Every row runs on the SQLite catalog and, with --postgres (the default when PostgreSQL's initdb is under
/usr/lib/postgresql/*/bin), again on a PostgreSQL catalog: a throwaway cluster in a temp folder (as
tests/browser/test_many_processes.py makes one), the demo copied into it by `backup` and `restore`.

Targets, at 50 candidates beside 20 school sessions:

    lookups/s >= 100, lookup p95 <= 300 ms, 0 wrong answers, 0 errors
    school page runs/s >= 0.8 x the same sessions alone
    0 lake snapshots added during the rows

The clients run on the same 2 cores as the server (and PostgreSQL): figures are for this machine, side by
side in one run, not absolute. Loopback only; every row is bounded in time. Exit code 0 even when a
target is missed.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import html
import itertools
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for folder in (ROOT, BENCH):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import serve_bench  # noqa: E402
from examdash import demo  # noqa: E402
from examdash.domain.ids import id_check_char  # noqa: E402
from examdash.store import db, lake  # noqa: E402

BATCH = "2023-1"
LOOKUP = "/lookup"
COOKIE = "examdash_lookup"
NOT_FOUND = "未查到成绩"
LOCKED = "查询失败次数过多"
WRONG_SHARE = 0.10
# A client is a stream of visitors: the next arrives on average THINK s after the last one's answer (an
# exponential pause). 50 clients then offer up to about 150 lookups/s, above the target of 100 and far above
# "thousands within an hour"; with --think 0 the clients send as fast as answered and measure capacity.
THINK = 0.3
TIMEOUT = 30  # seconds a lookup request may take before it is an error
TARGET_RATE, TARGET_P95, TARGET_KEPT = 100.0, 0.300, 0.8
CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]*)"')
MESSAGE = re.compile(r'<div class="msg ([a-z]+)"[^>]*>([^<]*)</div>')


@dataclass(frozen=True)
class Candidate:
    ticket: str
    id_no: str
    total: str  # as the result page prints it: one decimal, or — without a score


def candidates(con) -> list[Candidate]:
    found = db.rows(con, "select ticket_no, id_no, name, level, theory, practical, total, passed, attendance_status "
                         "from results where batch_code = $b and ticket_no is not null", {"b": BATCH})
    return [Candidate(str(r[0]), str(r[1]), "—" if r[6] is None else f"{float(r[6]):.1f}") for r in found]


def snapshots(con) -> int:
    return db.rows(con, "select count(*) from lake.snapshots()")[0][0]


_ADDRESSES = itertools.count()
_ADDRESS_LOCK = threading.Lock()


def address() -> str:
    """A browser address no visitor before had: 10.77.0.1, 10.77.0.2, … (254 per /24, then 10.78…)."""
    with _ADDRESS_LOCK:
        n = next(_ADDRESSES)
    block, host = divmod(n, 254)
    return f"10.{77 + block // 256}.{block % 256}.{host + 1}"


def wrong_id(id_no: str, rng: random.Random) -> str:
    """The same ID with one of its 17 digits changed and the check character recomputed: well formed, not theirs."""
    i = rng.randrange(17)
    digit = rng.choice([d for d in "0123456789" if d != id_no[i]])
    first = id_no[:i] + digit + id_no[i + 1:17]
    return first + id_check_char(first)


def typed(c: Candidate, rng: random.Random) -> tuple[str, str]:
    """The ticket and ID number as a candidate types them: mostly plain, some with spaces."""
    roll = rng.random()
    if roll < 0.15:
        return c.ticket, f"{c.id_no[:6]} {c.id_no[6:14]} {c.id_no[14:]}"
    if roll < 0.20:
        return f" {c.ticket} ", c.id_no
    return c.ticket, c.id_no


@dataclass
class Lookups:
    """What the candidate clients of one row saw: POSTs as (start, end) times, problems by kind."""
    posts: list[tuple[float, float]] = field(default_factory=list)
    gets: int = 0
    wrong: collections.Counter = field(default_factory=collections.Counter)
    errors: collections.Counter = field(default_factory=collections.Counter)
    reconnects: int = 0
    samples: dict = field(default_factory=dict)  # problem -> the first answer's text
    lock: threading.Lock = field(default_factory=threading.Lock)

    def problem(self, kind: collections.Counter, what: str, sample: str) -> None:
        with self.lock:
            kind[what] += 1
            self.samples.setdefault(what, sample)

    def window(self, start: float, seconds: float) -> list[float]:
        return [e - s for s, e in self.posts if s >= start and e <= start + seconds]


class Visitor:
    """One candidate client: one kept-alive connection, one visitor (address, cookie, token) after another."""

    def __init__(self, port: int, pool: list[Candidate], with_x: list[Candidate], seed: int, out: Lookups):
        self.port, self.pool, self.with_x, self.out = port, pool, with_x, out
        self.rng = random.Random(seed)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)

    def request(self, method: str, body: str | None, headers: dict) -> tuple[int, dict, str]:
        for attempt in (0, 1):
            try:
                self.conn.request(method, LOOKUP, body, headers)
                response = self.conn.getresponse()
                return response.status, response.msg, response.read().decode("utf-8", "replace")
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # the server closed the kept-alive connection: once more on a new one (counted)
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
                with self.out.lock:
                    self.out.reconnects += 1
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def visit(self) -> None:
        forwarded = {"X-Forwarded-For": address()}
        status, msg, page = self.request("GET", None, forwarded)
        with self.out.lock:
            self.out.gets += 1
        token = CSRF.search(page)
        cookie = next((c.split(";", 1)[0] for c in msg.get_all("Set-Cookie") or [] if c.startswith(COOKIE + "=")), None)
        if status != 200:
            self.out.problem(self.out.errors, f"GET HTTP {status}", _gist(page))
            return
        if not token or not cookie:
            self.out.problem(self.out.wrong, "GET: no csrf field or no cookie", _gist(page))
            return
        right = self.rng.random() >= WRONG_SHARE
        if right and self.with_x and self.rng.random() < 0.10:  # an ID ending in X, typed with a lower-case x
            c = self.rng.choice(self.with_x)
            ticket, id_number = c.ticket, c.id_no.lower()
        else:
            c = self.rng.choice(self.pool)
            ticket, id_number = typed(c, self.rng) if right else (c.ticket, wrong_id(c.id_no, self.rng))
        form = urllib.parse.urlencode({"csrf": html.unescape(token.group(1)), "ticket": ticket, "id_number": id_number})
        headers = {**forwarded, "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        t0 = time.monotonic()
        status, _, page = self.request("POST", form, headers)
        t1 = time.monotonic()
        if status != 200:
            self.out.problem(self.out.errors, f"POST HTTP {status}", _gist(page))
            return
        with self.out.lock:
            self.out.posts.append((t0, t1))
        what = _judge(page, c, right)
        if what:
            self.out.problem(self.out.wrong, what, f"ticket {ticket!r} id {id_number!r}: {_gist(page)}")

    def run(self, stop: threading.Event, think: float) -> None:
        while not stop.is_set():
            try:
                self.visit()
            except Exception as exc:  # noqa: BLE001 - a timeout or a refused connection is an error; go on
                self.out.problem(self.out.errors, f"{type(exc).__name__}: {str(exc)[:80]}", "")
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            if think:
                stop.wait(self.rng.expovariate(1 / think))
        self.conn.close()


def _judge(page: str, c: Candidate, right: bool) -> str | None:
    """None when the answer is the right one, else what is wrong with it."""
    if LOCKED in page:
        return "locked out (查询失败次数过多)"
    message = MESSAGE.search(page)
    if not right:
        return None if NOT_FOUND in page else f"wrong ID number answered {message.group(1) if message else 'a result'}"
    if NOT_FOUND in page:
        return "right details answered 未查到成绩"
    if message:
        return f"right details answered a {message.group(1)} message"
    if f"<td>{c.ticket}</td>" not in page:
        return "result without the ticket"
    if f"<th>总成绩</th><td>{c.total}</td>" not in page:
        return "result with another total"
    return None


def _gist(page: str) -> str:
    """The message of an answer, or the start of its text without markup."""
    found = MESSAGE.search(page)
    if found:
        return f"{found.group(1)}: {html.unescape(found.group(2))}"
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S)
    return " ".join(text.split())[:200]


def drive_clocked(port: int, sessions: int, seconds: float, opened: threading.Event, clock: dict):
    """serve_bench.drive for the school role, telling when its window opens (all sessions signed in): the
    candidates are measured over the same window."""

    def on_open() -> None:
        clock["start"] = time.monotonic()
        opened.set()

    return serve_bench.drive(port, "school", sessions, seconds, on_open=on_open)


@dataclass
class Result:
    catalog: str
    clients: int  # candidate clients; 0: the school sessions alone
    school: serve_bench.Row
    lookups: Lookups | None
    times: list[float]
    seconds: float
    snapshots: int

    @property
    def rate(self) -> float:
        return len(self.times) / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        return serve_bench.quantile(self.times, q)


def row(catalog: str, port: int, con, sessions: int, clients: int, seconds: float, think: float,
        pool: list[Candidate], with_x: list[Candidate]) -> Result:
    before = snapshots(con)
    out, stop, opened, clock = Lookups(), threading.Event(), threading.Event(), {}
    threads = []
    for k in range(clients):
        visitor = Visitor(port, pool, with_x, seed=1000 * clients + k, out=out)
        threads.append(threading.Thread(target=visitor.run, args=(stop, think), daemon=True))
    for t in threads:
        t.start()
    try:
        school = drive_clocked(port, sessions, seconds, opened, clock)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=TIMEOUT + 10)
    times = out.window(clock.get("start", 0.0), seconds) if clients else []
    result = Result(catalog, clients, school, out if clients else None, times, seconds, snapshots(con) - before)
    if clients:
        print(f"  {catalog}: {clients} candidate clients: {len(times)} lookups, {result.rate:.1f}/s, "
              f"p95 {1000 * result.quantile(0.95):.0f} ms, {sum(out.wrong.values())} wrong, "
              f"{sum(out.errors.values())} errors", file=sys.stderr, flush=True)
    return result


def start(env: dict, log: Path):
    """serve.py as serve_bench starts it (same options), its output kept in `log` for a look at errors."""
    port = serve_bench.free_port()
    handle = log.open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / serve_bench.ENTRY), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.enableAgentApi", "true", "--server.fileWatcherType", "none", "--server.agentMaxSessions", "1000"],
        cwd=ROOT, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, stdout=handle, stderr=subprocess.STDOUT)
    handle.close()
    deadline = time.monotonic() + 120
    while "URL:" not in log.read_text(encoding="utf-8", errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("streamlit did not start:\n" + log.read_text(encoding="utf-8", errors="replace"))
        time.sleep(0.2)
    return proc, port


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def warm(port: int, pool: list[Candidate]) -> None:
    """A first visit of each kind: the lookup's index and the school pages' caches are built before any row."""
    out = Lookups()
    visitor = Visitor(port, pool, [], seed=0, out=out)
    for _ in range(3):
        visitor.visit()
    visitor.conn.close()
    if out.errors or out.wrong:
        print(f"  warm-up lookups: {dict(out.errors)} {dict(out.wrong)} {out.samples}", file=sys.stderr)
    serve_bench.drive(port, "school", 3, 5)  # school1, school2, school3: each school's pages filled once


def run_catalog(catalog: str, store: str, env: dict, work: Path, args, counts: list[int]) -> tuple[list[Result], list[str]]:
    con = db.connect(store)
    pool = candidates(con)
    with_x = [c for c in pool if c.id_no.endswith("X")]
    log = work / f"server_{catalog}.log"
    proc, port = start({"EXAMDASH_DB": store, "EXAMDASH_TRUST_PROXY": "1", **env}, log)
    results = []
    try:
        print(f"{catalog}: {len(pool):,} candidates of batch {BATCH} ({len(with_x):,} with an X), server on port {port}",
              file=sys.stderr, flush=True)
        warm(port, pool)
        results.append(row(catalog, port, con, args.sessions, 0, args.seconds, args.think, pool, with_x))
        for n in counts:
            results.append(row(catalog, port, con, args.sessions, n, args.seconds, args.think, pool, with_x))
    finally:
        stop(proc)
        con.close()
    STATE_READS[catalog] = state_read_ms(store)
    return results, log_problems(log.read_text(encoding="utf-8", errors="replace"))


STATE_READS: dict[str, float] = {}


def state_read_ms(store: str, n: int = 2000) -> float:
    """The mean time of a signed-in page run's state read (db.run_state: the lake's part, kept while the lake
    has not changed, and the web session's record) in this process, in ms."""
    from examdash.domain import sessions

    con = db.connect(store)
    try:
        sid = sessions.open_session(con, sessions.new_token(), "school1", 0, "password")
        db.run_state(con, sid)
        t0 = time.perf_counter()
        for _ in range(n):
            db.run_state(con, sid)
        return (time.perf_counter() - t0) / n * 1000
    finally:
        con.close()


def log_problems(text: str) -> list[str]:
    """What went wrong in the server's log: each kind of exception with its count, then the first traceback."""
    lines, kinds, first = text.splitlines(), collections.Counter(), []
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last):"):
            block = [line]
            for follow in lines[i + 1:]:
                block.append(follow)
                if follow and not follow[0].isspace():  # the exception's own line ends the traceback
                    break
            kinds[block[-1][:240]] += 1
            first = first or block
    if not kinds:
        return [line for line in lines if re.search(r"ERROR|Exception|错误编号", line)][:10]
    return [f"{k} x {kind}" for kind, k in kinds.most_common(6)] + ["the first traceback:"] + first[-24:]


class Postgres:
    """A throwaway PostgreSQL cluster (as tests/browser/test_many_processes.py makes one): a temp folder, a
    free port, trust auth for the user examdash, run as the `postgres` user when we are root."""

    def __init__(self):
        self.bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))[-1].parent
        self.folder = Path(tempfile.mkdtemp(prefix="results_day_pg_"))
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.folder, "postgres")
        self.port = serve_bench.free_port()
        self.started = False

    def run(self, *cmd) -> None:
        subprocess.run((["runuser", "-u", "postgres", "--"] if self.as_root else []) + [str(c) for c in cmd],
                       check=True, capture_output=True, text=True, cwd=self.folder, timeout=300)

    def start(self) -> str:
        self.run(self.bindir / "initdb", "-D", self.folder / "cluster", "-U", "examdash", "--auth=trust", "-E", "UTF8")
        self.run(self.bindir / "pg_ctl", "-D", self.folder / "cluster", "-l", self.folder / "server.log", "-w", "start",
                 "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1")
        self.started = True
        self.run(self.bindir / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "examdash", "examdash")
        return f"postgresql://examdash@127.0.0.1:{self.port}/examdash"

    def close(self) -> None:
        try:
            if self.started:
                self.run(self.bindir / "pg_ctl", "-D", self.folder / "cluster", "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def cli(store: str, env: dict, *args) -> None:
    done = subprocess.run([sys.executable, "-m", "examdash", "--db", store, *map(str, args)], cwd=ROOT,
                          env={**os.environ, **env, "PYTHONIOENCODING": "utf-8"}, capture_output=True, text=True,
                          timeout=1200)
    if done.returncode:
        raise SystemExit(f"examdash {' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}")


def prepare(work: Path, source: Path | None) -> Path:
    """The SQLite-catalog store: serve_bench's copy of the demo, or a copy of `source` given the same passwords."""
    if source is None:
        return serve_bench.prepare_store(work)
    store = lake.copy_store(source, work / "serve.ducklake")
    con = db.connect(store)
    try:
        demo.retire_published_passwords(con, serve_bench.password, "bench")
    finally:
        con.close()
    return store


def pg_store(store: Path, work: Path) -> tuple[str, dict, Postgres]:
    """A PostgreSQL cluster holding what the SQLite store holds (backup, restore), accounts with own passwords."""
    cluster = Postgres()
    try:
        url = cluster.start()
        env = {"EXAMDASH_DATA_PATH": str(work / "pg_data")}
        os.environ.update(env)  # this process reads the store too (candidates, snapshots)
        cli(str(store), {}, "backup", work / "backup")
        cli(url, env, "restore", "--force", work / "backup")
        con = db.connect(url)
        try:
            demo.retire_published_passwords(con, serve_bench.password, "bench")
        finally:
            con.close()
    except BaseException:
        cluster.close()
        raise
    return url, env, cluster


def main() -> None:
    has_pg = bool(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")))
    ap = argparse.ArgumentParser(description="Results-day benchmark: candidates' lookups beside school sessions")
    ap.add_argument("--candidates", default="1,10,50", help="candidate clients per row (comma-separated)")
    ap.add_argument("--sessions", type=int, default=20, help="school-leader sessions in every row")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--think", type=float, default=THINK,
                    help="mean pause (s) between a client's visitors; 0: none (the server's capacity)")
    ap.add_argument("--postgres", action=argparse.BooleanOptionalAction, default=has_pg,
                    help="the rows once more on a PostgreSQL catalog (default: when initdb is installed)")
    ap.add_argument("--demo", type=Path, help="a demo store to copy instead of data/demo.ducklake (or building one)")
    args = ap.parse_args()
    counts = [int(x) for x in args.candidates.split(",") if x.strip()]

    work = Path(tempfile.mkdtemp(prefix="results_day_bench_"))
    results: list[Result] = []
    problems: dict[str, list[str]] = {}
    cluster = None
    try:
        store = prepare(work, args.demo)
        print(f"results-day benchmark: {os.cpu_count()} cores, {args.seconds:.0f} s per row, {args.sessions} school "
              f"sessions, think {args.think:g} s, load average {os.getloadavg()[0]:.1f}, store {store}")
        found, problems["sqlite"] = run_catalog("sqlite", str(store), {}, work, args, counts)
        results += found
        if args.postgres:
            url, env, cluster = pg_store(store, work)
            found, problems["postgres"] = run_catalog("postgres", url, env, work, args, counts)
            results += found
    finally:
        if cluster is not None:
            cluster.close()
        shutil.rmtree(work, ignore_errors=True)

    report(results, problems, args.sessions)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f} (other work on this machine moves every figure)")


def report(results: list[Result], problems: dict[str, list[str]], sessions: int) -> None:
    print()
    print(f"{'catalog':<10}{'cands':>6}{'school runs/s':>15}{'alone->beside':>16}{'kept':>6}{'lookups/s':>11}"
          f"{'p50 ms':>8}{'p95 ms':>8}{'wrong':>7}{'errors':>8}{'snaps':>7}")
    alone = {r.catalog: r.school.rate for r in results if r.clients == 0}
    for r in results:
        base = alone.get(r.catalog, float("nan"))
        school_err = sum(r.school.errors.values())
        if r.clients == 0:
            print(f"{r.catalog:<10}{0:>6}{r.school.rate:>15.2f}{'':>16}{'':>6}{'':>11}{'':>8}{'':>8}{'':>7}"
                  f"{school_err:>8}{r.snapshots:>7}")
        else:
            out = r.lookups
            print(f"{r.catalog:<10}{r.clients:>6}{r.school.rate:>15.2f}{f'{base:.2f} -> {r.school.rate:.2f}':>16}"
                  f"{r.school.rate / base if base else float('nan'):>6.2f}{r.rate:>11.1f}{1000 * r.quantile(0.5):>8.0f}"
                  f"{1000 * r.quantile(0.95):>8.0f}{sum(out.wrong.values()):>7}"
                  f"{sum(out.errors.values()) + school_err:>8}{r.snapshots:>7}")
            for what, k in (out.wrong + out.errors).most_common(4):
                print(f"{'':<10}{k} x {what}: {out.samples.get(what, '')[:160]}")
            if out.reconnects:
                print(f"{'':<10}{out.reconnects} kept-alive connections closed by the server (request sent again)")
        for what, k in r.school.errors.most_common(3):
            print(f"{'':<10}school: {k} x {what}")
    print("(errors: the lookups' and the school sessions'; wrong answers and errors over the whole row, "
          "rates and times over the window)")
    for catalog, lines in problems.items():
        if lines:
            print(f"\n{catalog} server log:")
            for line in lines:
                print(f"  {line[:240]}")

    print()
    for catalog, ms in STATE_READS.items():
        print(f"{catalog}: a page run's state read (db.run_state, signed in) {ms:.3f} ms (target <= 1 ms) "
              f"{'ok' if ms <= 1 else 'missed'}")
    for catalog in dict.fromkeys(r.catalog for r in results):
        rows = [r for r in results if r.catalog == catalog]
        snaps = sum(r.snapshots for r in rows)
        print(f"{catalog}: lake snapshots added during the rows: {snaps} (target 0) {'ok' if snaps == 0 else 'missed'}")
        peak = next((r for r in rows if r.clients == 50), None)
        if peak is None:
            print(f"{catalog}: no row of 50 candidate clients: the results-day targets were not measured")
            continue
        base = alone.get(catalog)
        kept = peak.school.rate / base if base else float("nan")
        wrong, errors = sum(peak.lookups.wrong.values()), sum(peak.lookups.errors.values())
        checks = [
            (f"lookups/s {peak.rate:.1f} (target >= {TARGET_RATE:.0f})", peak.rate >= TARGET_RATE),
            (f"lookup p95 {1000 * peak.quantile(0.95):.0f} ms (target <= {1000 * TARGET_P95:.0f})",
             peak.quantile(0.95) <= TARGET_P95),
            (f"wrong answers {wrong} (target 0)", wrong == 0),
            (f"errors {errors} (target 0)", errors == 0),
            (f"school runs/s {peak.school.rate:.2f} = {kept:.2f} x alone {base:.2f} (target >= {TARGET_KEPT})",
             kept >= TARGET_KEPT),
        ]
        for text, ok in checks:
            print(f"{catalog}: 50 candidates beside {sessions} school sessions: {text} {'ok' if ok else 'missed'}")


if __name__ == "__main__":
    main()
