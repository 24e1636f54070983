"""Fee benchmark (targets in docs/ARCHITECTURE.md): the fee_* queries, the statements and the 费用 page at scale.

    .venv/bin/python bench/fee_bench.py [--rows 1000000] [--keep DIR] [--runs 5]

Builds the database the way bench/query_bench.py does (demo schools and sites, `rows`
registrations of 2023-1 with sign-in sheet and scores, imported through import_file), then imports
the demo fee standards and the bank lines the demo generator makes for those registrations. With
--keep DIR a database built there is reused. Prints one table: each fee query's median warm time
(all batches, one batch, one school), one school's statement, every school's statements as a zip,
and the 费用 page's AppTest first and warm runs. Targets: query <= 100 ms, warm page <= 1 s.
Exit code 0 even when a target is missed: this is a benchmark, not a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

SEED = 20230527
BATCH = "2023-1"
QUERY_TARGET_MS = 100.0
PAGE_TARGET_MS = 1000.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def build(db_file: Path, work: Path, rows: int) -> None:
    import query_bench

    from examdash import demo
    from examdash.importers import import_file
    from examdash.store import db

    query_bench.build(db_file, work, rows)
    con = db.connect(db_file)
    try:
        small = demo.generate(work / "demo_fees", seed=SEED, candidates=200)
        fee_file = next(p for kind, p, _ in small if kind == "fee-standards")
        assert import_file(con, "fee-standards", fee_file, actor="bench").ok
        regs = con.cursor().execute(
            "select batch_code as 考试批次, school_code as 院校代码, level as 级别, status as 报名状态 from registrations"
        ).df()
        pay = demo.make_payments(demo.make_world(SEED), [regs], SEED)
        path = work / "到账.csv"
        demo.write_csv(pay, path, "utf-8-sig")
        res = import_file(con, "payments", path, actor="bench")
        assert res.ok, res.lines(limit=10)
    finally:
        con.close()


def median_ms(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", type=Path, metavar="DIR")
    args = ap.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="fee_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    db_file = work / "fees_bench.ducklake"
    if not db_file.exists():
        log(f"building {db_file} with {args.rows:,} registrations …")
        t = time.perf_counter()
        build(db_file, work, args.rows)
        log(f"built in {time.perf_counter() - t:.1f} s")

    from examdash.store import db, queries
    from examdash.store.sql_files import named_queries
    from examdash.views.fees import statement_xlsx, statements_zip

    con = db.connect(db_file)
    cur = con.cursor()
    n_regs, n_pay, n_schools = cur.execute(
        "select (select count(*) from registrations), (select count(*) from payments), (select count(*) from schools)"
    ).fetchall()[0]
    cur.close()
    school = queries.run(con, "fee_balances", {}).school_code.iat[0]
    table = []
    for name, q in sorted(named_queries().items()):
        if not name.startswith("fee_"):
            continue
        cases = [("全部", {})]
        if "batch" in q.params:
            cases.append((f"批次 {BATCH}", {"batch": BATCH}))
        if "school" in q.params:
            cases.append(("单个院校", {"school": school}))
        for label, params in cases:
            ms = median_ms(lambda: queries.run(con, name, params), args.runs)
            table.append((f"{name}（{label}）", ms, QUERY_TARGET_MS))
    table.append(("对账单 statement_xlsx（单个院校）", median_ms(lambda: statement_xlsx(con, school), args.runs), None))
    t = time.perf_counter()
    statements_zip(con)
    table.append((f"全部对账单 statements_zip（{n_schools} 所院校）", (time.perf_counter() - t) * 1000, None))
    con.close()

    os.environ["EXAMDASH_DB"] = str(db_file)
    from streamlit.testing.v1 import AppTest

    from examdash import web
    from examdash.domain import auth

    at = AppTest.from_file(str(ROOT / "app_pages/fees.py"), default_timeout=120)
    import query_bench

    at.session_state[web.USER_KEY] = auth.User(query_bench.STAFF[0], "基准测试", "staff", None)
    at.session_state[web.SEEN_KEY] = time.monotonic()
    t = time.perf_counter()
    at.run()
    table.append(("费用页 AppTest 首次运行", (time.perf_counter() - t) * 1000, None))
    if at.exception:
        log(str(at.exception))
    table.append(("费用页 AppTest 热运行（中位数）", median_ms(lambda: at.run(), args.runs), PAGE_TARGET_MS))

    print(f"\n费用基准：{n_regs:,} 条报名，{n_pay:,} 笔到账，{n_schools} 所院校（{db_file}）\n")
    print(f"{'项目':<48} {'毫秒':>10}  目标")
    for label, ms, target in table:
        flag = "" if target is None else ("  ≤ %d ms %s" % (target, "✓" if ms <= target else "✗"))
        print(f"{label:<48} {ms:>10.1f}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
