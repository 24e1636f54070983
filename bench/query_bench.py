"""Query and page benchmark of the analytics pages (报名, 考勤, 成绩); targets in
docs/ARCHITECTURE.md.

    .venv/bin/python bench/query_bench.py [--rows 1000000] [--keep DIR] [--runs 5]

Builds a DuckDB in a temp dir (or DIR): the demo schools and sites imported, then `rows`
registrations of batch 2023-1 with their sign-in sheet and scores made by the demo generator
(make_registrations / make_attendance / make_scores), written as UTF-8 CSVs and imported through
examdash.importers.import_file like any upload (which rebuilds the pre-joined results table).
With --keep DIR a database already built there is reused.

Then, in one run, prints one table:
- every named query the three pages run, with the shared filters at their defaults (the whole
  batch, the heaviest case) and with one province chosen: median of `runs` warm runs in ms, beside
  the same aggregation done with pandas on DataFrames (the results, sites, schools and pass_rules
  tables pulled into pandas once, untimed), and the ratio pandas / DuckDB;
- the score table's download path (every row of the batch, built only when the user clicks);
- each page's AppTest run: first run, then the median of warm reruns (signed in once through
  session state, as the login form would leave it).
Targets: every page query <= 100 ms, every warm page run <= 1 s. Exit code 0 even when a target is
missed: this is a benchmark, not a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SEED = 20230527
BATCH = "2023-1"
PROVINCE = "广东省"
QUERY_TARGET_MS = 100.0
LAKE_RATIO = 1.5  # a page query on the lake may take at most this many times its time on a DuckDB file
PAGE_TARGET_MS = 1000.0
PAGES = ["app_pages/registrations.py", "app_pages/attendance.py", "app_pages/scores.py"]
STAFF = ("bench_staff", "Bench-2023staff")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def build(db_file: Path, work: Path, rows: int) -> list[tuple[str, float]]:
    from examdash import demo
    from examdash.domain import auth
    from examdash.importers import import_file
    from examdash.store import db

    steps = []
    t = time.perf_counter()
    small = demo.generate(work / "demo_small", seed=SEED, candidates=200)
    con = db.connect(db_file)
    for kind, path, batch in small:
        if kind in ("schools", "sites"):
            res = import_file(con, kind, path, batch=batch, actor="bench", db_file=db_file)
            assert res.ok, res.lines(limit=10)
    steps.append(("导入演示院校与考点", time.perf_counter() - t))

    t = time.perf_counter()
    world = demo.make_world(SEED)
    # make_registrations drops the rare duplicate (id, level) draw: ask for a few more, keep `rows`.
    regs = demo.make_registrations(world, rows + rows // 200 + 10, BATCH, SEED).head(rows).reset_index(drop=True)
    att = demo.make_attendance(world, regs, SEED + 1)
    scores = demo.make_scores(world, regs, att, BATCH, SEED)
    steps.append((f"生成 {len(regs):,} 报名 + 签到 + 成绩（demo 生成器）", time.perf_counter() - t))

    for kind, frame, name in (("registrations", regs, "报名.csv"), ("attendance", att, "签到表.csv"),
                              ("scores", scores, "成绩.csv")):
        path = work / name
        t = time.perf_counter()
        demo.write_csv(frame, path, "utf-8-sig")
        steps.append((f"写出 {name}（{len(frame):,} 行）", time.perf_counter() - t))
        t = time.perf_counter()
        res = import_file(con, kind, path, batch=BATCH, actor="bench", db_file=db_file)
        assert res.ok, (res.summary(), res.lines(limit=10))
        if res.added == len(frame):
            steps.append((f"导入 {name}（import_file，含重建 results）", time.perf_counter() - t))
            continue
        # import_file validated the file but wrote nothing (DuckDB 2.0.0 loses rows staged from a
        # frame inside a transaction once a row group is full): load the validated rows directly.
        log(f"  import_file added {res.added:,} of {len(frame):,} rows: loading the validated frame directly")
        steps.append((f"导入 {name}：import_file 校验通过但只写入 {res.added:,} 行（见说明）", time.perf_counter() - t))
        t = time.perf_counter()
        load_validated(con, kind, path)
        steps.append((f"直接载入 {name}（validate_file 校验后的数据）", time.perf_counter() - t))
    t = time.perf_counter()
    with db.transaction(con) as cur:
        db.rebuild_results(cur, [BATCH])
        db.bump_version(cur)
    n = con.cursor().execute("select count(*) from results where batch_code = $b", {"b": BATCH}).fetchall()[0][0]
    assert n == (regs["报名状态"] == "正常").sum(), n
    steps.append((f"db.rebuild_results（{n:,} 行）", time.perf_counter() - t))
    auth.create_user(con, STAFF[0], "基准测试", "staff", STAFF[1], actor="bench")
    con.close()
    return steps


def native_copy(lake_file: Path, native_file: Path) -> float:
    """The same data in a plain DuckDB file (this version's schema, every table copied), for the
    lake / native comparison. Returns seconds."""
    from examdash.store import db

    t = time.perf_counter()
    db.connect(native_file).close()  # the schema, from the migrations
    con = db.connect(lake_file)
    con.execute(f"attach '{native_file}' as native")  # a path this script made
    tables = [r[0] for r in con.execute("select table_name from duckdb_tables() where database_name = current_database()").fetchall()]
    con.execute("begin")
    for table in tables:
        con.execute(f'delete from native.main."{table}"')
        con.execute(f'insert into native.main."{table}" by name select * from "{table}"')
    con.execute("commit")
    con.execute("detach native")
    con.close()
    return time.perf_counter() - t


def load_validated(con, kind: str, path: Path) -> None:
    """The importer's validated, typed rows, inserted outside a transaction (each statement commits)."""
    from examdash.importers import TABLE_COLUMNS, validate_file
    from examdash.importers.kinds import KINDS
    from examdash.store import db

    res, frame = validate_file(con, kind, path, batch=BATCH)
    assert res.ok and frame is not None, res.lines(limit=10)
    cur = con.cursor()
    cur.register("_bench_frame", frame[TABLE_COLUMNS[kind]])
    table = KINDS[kind].table
    if kind == "scores":
        cur.execute("insert into score_versions by name select *, 1 as version, 'import' as source, "
                    "'bench' as created_by, $at as created_at from _bench_frame", {"at": db.now()})
    else:
        cur.execute(f"insert into {table} by name select * from _bench_frame")  # table from KINDS, not input
    cur.unregister("_bench_frame")
    got = cur.execute(f"select count(*) from {table} where batch_code = $b", {"b": BATCH}).fetchall()[0][0]
    cur.close()
    assert got == len(frame), (kind, got, len(frame))


class Frames:
    def __init__(self, con):
        cur = con.cursor()
        self.results = cur.execute("select * from results").df()
        for c in ("theory", "practical", "total"):
            self.results[c] = self.results[c].astype("float64")
        self.sites = cur.execute("select site_code, site_name, province, city, school_code, seats from sites").df()
        self.schools = cur.execute("select school_code, school_name, province, school_type, is_pilot from schools").df()
        self.rules = cur.execute("select batch_code, level, rule from pass_rules").df()
        self.batch_rows = cur.execute("select * from batches").df()
        cur.close()

    def chosen(self, p: dict) -> pd.DataFrame:
        r = self.results
        m = r.batch_code == p["batch"]
        for col, key in (("level", "level"), ("province", "province"), ("site_code", "site"),
                         ("school_code", "school"), ("candidate_type", "candidate_type")):
            if p.get(key) is not None:
                m &= r[col] == p[key]
        return r[m]

    def _rates(self, p, keys):
        d = self.chosen(p)
        g = d.groupby(keys, observed=True).agg(registered=("id_no", "size"), sat=("sat", "sum"),
                                               passed=("passed", lambda s: int(s.fillna(False).astype(bool).sum())))
        g = g.reset_index()
        g["pass_rate"] = g.passed / g.sat.where(g.sat > 0)
        rules = self.rules[self.rules.batch_code == p["batch"]][["level", "rule"]]
        return g.merge(rules, on="level", how="left")

    def _attendance(self, p, key):
        d = self.chosen(p)
        recorded = d.attendance_status.notna() | d.score_version.notna()
        d = d.assign(absent=~d.sat & recorded, violation=d.attendance_status == "违纪", unrec=~recorded)
        g = d.groupby(key).agg(registered=("id_no", "size"), present=("sat", "sum"), absent=("absent", "sum"),
                               violations=("violation", "sum"), unrecorded=("unrec", "sum")).reset_index()
        g["absence_rate"] = g.absent / (g.present + g.absent)
        return g

    def registrations_by_site(self, p):
        g = self.chosen(p).groupby(["site_code", "level"]).size().rename("registered").reset_index()
        return g.merge(self.sites, on="site_code", how="left")

    def registrations_by_school(self, p):
        d = self.chosen(p)
        d = d.assign(student=d.candidate_type == "在校生", social=d.candidate_type == "社会考生")
        g = d.groupby(["school_code", "level"]).agg(registered=("id_no", "size"), students=("student", "sum"),
                                                    social=("social", "sum")).reset_index()
        return g.merge(self.schools, on="school_code", how="left")

    def registrations_by_province(self, p):
        return self.chosen(p).groupby(["province", "level"]).size().rename("registered").reset_index()

    def registrations_by_type(self, p):
        return self.chosen(p).groupby(["level", "candidate_type"]).size().rename("registered").reset_index()

    def registrations_daily(self, p):
        d = self.chosen(p)
        per = d.groupby([d.level, d.registered_at.dt.floor("D").rename("day")]).size().rename("registered")
        deadline = pd.Timestamp(self.batch_rows.set_index("batch_code").reg_deadline[p["batch"]])
        days = pd.date_range(per.index.get_level_values("day").min(), max(per.index.get_level_values("day").max(), deadline))
        full = per.unstack("level", fill_value=0).reindex(days, fill_value=0)
        return full.cumsum().stack().rename("cumulative").reset_index()

    def site_capacity(self, p):
        r = self.results
        m = r.batch_code == p["batch"]
        if p.get("level") is not None:
            m &= r.level == p["level"]
        per = r[m].groupby(["site_code", "level"]).size().unstack(fill_value=0)
        per["peak"] = per.max(axis=1)
        sites = self.sites if p.get("province") is None else self.sites[self.sites.province == p["province"]]
        out = sites.merge(per.reset_index(), on="site_code", how="left").fillna({"peak": 0})
        out["over_capacity"] = out.peak > out.seats.fillna(0)
        return out.sort_values(["over_capacity", "site_code"], ascending=[False, True])

    def borrowed_sites(self, p):
        d = self.chosen(p)[["school_code", "site_code", "level"]].merge(
            self.sites[["site_code", "school_code"]].rename(columns={"school_code": "host"}), on="site_code", how="left")
        d = d[d.host != d.school_code]
        g = d.groupby(["school_code", "site_code"]).size().rename("candidates").reset_index()
        g = g.merge(self.schools[["school_code", "school_name"]], on="school_code", how="left")
        return g.merge(self.sites[["site_code", "site_name"]], on="site_code", how="left").sort_values("candidates")

    def attendance_by_site(self, p):
        return self._attendance(p, "site_code").merge(self.sites[["site_code", "site_name"]], on="site_code", how="left")

    def attendance_by_school(self, p):
        return self._attendance(p, "school_code").merge(self.schools[["school_code", "school_name"]], on="school_code",
                                                        how="left")

    def unusual_absence(self, p):
        d = self.chosen({"batch": p["batch"], "level": p.get("level"), "candidate_type": p.get("candidate_type")})
        d = d[d.attendance_status.notna() | d.score_version.notna()]
        rate = (~d.sat).mean()
        if p.get("province") is not None:
            d = d[d.province == p["province"]]
        g = d.assign(absent=~d.sat).groupby("site_code").agg(recorded=("id_no", "size"), absent=("absent", "sum"))
        g["absence_rate"] = g.absent / g.recorded
        g = g[(g.recorded >= 10) & (g.absence_rate >= 2 * rate) & (g.absence_rate > rate + 2 * np.sqrt(rate * (1 - rate) / g.recorded))]
        return g.reset_index().merge(self.sites[["site_code", "site_name"]], on="site_code", how="left")

    def pass_rates_by_level(self, p):
        return self._rates(p, ["level"])

    def pass_rates_by_province(self, p):
        return self._rates(p, ["province", "level"])

    def pass_rates_by_site(self, p):
        return self._rates(p, ["site_code", "level"]).merge(self.sites[["site_code", "site_name"]], on="site_code", how="left")

    def pass_rates_by_school(self, p):
        return self._rates(p, ["school_code", "level"]).merge(self.schools[["school_code", "school_name"]],
                                                              on="school_code", how="left")

    def score_histogram(self, p):
        d = self.chosen(p)
        d = d[d.theory.notna()]
        parts = []
        for part in ("theory", "practical", "total"):
            bins = np.minimum(np.floor(d[part].to_numpy() / 5) * 5, 95).astype(int)
            counts = np.bincount(bins // 5, minlength=20)
            parts.append(pd.DataFrame({"part": part, "bin": np.arange(0, 100, 5), "candidates": counts}))
        return pd.concat(parts, ignore_index=True)

    def theory_vs_practical(self, p):
        d = self.chosen(p)
        d = d[d.theory.notna() & d.practical.notna()]
        t = np.minimum(d.theory // 10 * 10, 90).astype(int)
        q = np.minimum(d.practical // 10 * 10, 90).astype(int)
        return d.groupby([t.rename("theory_bin"), q.rename("practical_bin")]).size().rename("candidates").reset_index()

    def candidate_scores(self, p):
        d = self.chosen(p)
        d = d.assign(_mid=d.level == "中级").sort_values(["school_code", "_mid", "ticket_no", "id_no"])
        if p.get("limit") is not None:
            d = d.head(int(p["limit"]))
        d = d.merge(self.schools[["school_code", "school_name"]], on="school_code", how="left")
        return d.merge(self.sites[["site_code", "site_name"]], on="site_code", how="left")


def median_ms(fn, runs: int) -> float:
    fn()  # warm
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Query and page benchmark of the analytics pages")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", type=Path, metavar="DIR", help="build in DIR and keep it; reuse a database built there")
    args = ap.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="query_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    db_file = work / "bench.ducklake"
    native_file = work / "bench.duckdb"
    steps: list[tuple[str, float]] = []
    if not (work / "bench.built").exists():
        import shutil

        log(f"building {db_file} with {args.rows:,} registrations ...")
        for stale in (db_file, native_file):
            for leftover in work.glob(stale.name + "*"):
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        steps = build(db_file, work, args.rows)
        steps.append(("同样的数据复制为 DuckDB 文件（对照）", native_copy(db_file, native_file)))
        (work / "bench.built").write_text("ok")
        for label, s in steps:
            log(f"  {label}: {s:.1f} s")
    os.environ["EXAMDASH_DB"] = str(db_file)
    os.environ["EXAMDASH_MIRROR"] = "wait"  # page queries on the mirror, as a settled app process runs them

    from examdash.store import db, queries
    from examdash.views import attendance, common, registrations, scores
    from examdash.views.common import Filters

    con = db.connect(db_file)
    native = db.connect(native_file, read_only=True)
    n = queries.run(con, "pass_rates_by_level", {"batch": BATCH}).registered.sum()
    from examdash.store import mirror

    version = db.data_version(con)
    t = time.perf_counter()
    mirror.cursor(con, version).close()
    mirror_s = time.perf_counter() - t
    log(f"this process's mirror of data version {version}: built in {mirror_s:.2f} s")
    log(f"{n:,} valid registrations in {BATCH}; pulling tables into pandas ...")
    frames = Frames(con)

    # The calls each page makes, recorded by running the views with a spying runner.
    calls: list[tuple[str, str, dict]] = []
    base_run = common.runner(con)
    for page, view in (("报名", registrations.build), ("考勤", attendance.build), ("成绩", scores.build)):
        def spy(name, _page=page, **params):
            calls.append((_page, name, params))
            return base_run(name, **params)
        view(spy, Filters(BATCH))
        if page == "成绩":
            scores.score_table(spy, Filters(BATCH), True, limit=scores.TABLE_ROWS)

    rows = []
    for page, name, params in calls:
        variants = [("全部", params)]
        if "province" in params:
            variants.append((PROVINCE, {**params, "province": PROVINCE}))
        for label, p in variants:
            duck = median_ms(lambda: queries.run(con, name, p, version=version), args.runs)
            live = median_ms(lambda: queries.run(con, name, p), args.runs)
            nat = median_ms(lambda: queries.run(native, name, p), args.runs)
            pdf = getattr(Frames, name, None) and getattr(frames, name)
            pd_ms = median_ms(lambda: pdf(p), args.runs) if pdf else None
            rows.append((page, name, label, duck, live, nat, pd_ms))
            log(f"  {page} {name} [{label}]: lake {duck:.1f} ms (live {live:.1f}) / native {nat:.1f} ms"
                + (f" / pandas {pd_ms:.1f} ms" if pd_ms else ""))

    log("download path (all rows of the batch, on click) ...")
    t = time.perf_counter()
    full = scores.score_table(base_run, Filters(BATCH), True)
    fetch_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    from examdash.views import exports

    csv_bytes = exports.to_csv(full)
    csv_ms = (time.perf_counter() - t) * 1000

    log("pages (AppTest) ...")
    from streamlit.testing.v1 import AppTest

    from examdash import web
    from examdash.domain import auth

    user = auth.authenticate(con, *STAFF)
    page_rows = []
    for page in PAGES:
        at = AppTest.from_file(str(ROOT / page), default_timeout=300)
        at.session_state[web.USER_KEY] = user
        at.session_state[web.SEEN_KEY] = time.monotonic()
        t = time.perf_counter()
        at.run()
        first = (time.perf_counter() - t) * 1000
        assert not at.exception, at.exception
        warm = []
        for _ in range(3):
            t = time.perf_counter()
            at.run()
            warm.append((time.perf_counter() - t) * 1000)
        assert not at.exception, at.exception
        page_rows.append((page, first, statistics.median(warm)))
        log(f"  {page}: first {first:.0f} ms, warm {statistics.median(warm):.0f} ms")
    con.close()
    native.close()

    print()
    print(f"Analytics query benchmark: {n:,} valid registrations with sign-in and scores in batch {BATCH}, "
          f"DuckDB {__import__('duckdb').__version__}, pandas {pd.__version__}; median of {args.runs} warm runs")
    if not steps:
        print(f"Data set: the database built earlier in {work} (delete it to rebuild and time the build)")
    if steps:
        print("Data set (demo generator → CSV → examdash.importers.import_file):")
        for label, s in steps:
            print(f"  {label}: {s:.1f} s")
    print(f"Store: DuckLake (SQLite catalog) as the app reads it — page queries on the process's mirror of the data "
          f"version (built in {mirror_s:.2f} s after each data change); 'live' = straight on the lake; 'native' = the "
          "same data in a DuckDB file")
    head = (f"{'page':<4} {'query':<26} {'filter':<6} {'lake ms':>8} {'live ms':>8} {'native ms':>10} {'lake/native':>12} "
            f"{'pandas ms':>10}  target")
    print(head)
    print("-" * len(head))
    misses = 0
    for page, name, label, duck, live, nat, pd_ms in rows:
        ok = duck <= QUERY_TARGET_MS and duck <= LAKE_RATIO * nat
        misses += not ok
        pd_txt = f"{pd_ms:.1f}" if pd_ms else ""
        print(f"{page:<4} {name:<26} {label:<6} {duck:>8.1f} {live:>8.1f} {nat:>10.1f} {duck / nat:>11.2f}x {pd_txt:>10}  "
              f"{'ok' if ok else 'MISS'} (≤{QUERY_TARGET_MS:.0f} ms, ≤{LAKE_RATIO}x native)")
    print(f"download (on click, not a page query): candidate_scores all {len(full):,} rows fetch+mask "
          f"{fetch_ms:.0f} ms, .csv {csv_ms:.0f} ms ({len(csv_bytes) / 1e6:.0f} MB)")
    print(f"{'page':<28} {'first run ms':>12} {'warm rerun ms':>14}  target")
    for page, first, warm in page_rows:
        ok = warm <= PAGE_TARGET_MS
        misses += not ok
        print(f"{page:<28} {first:>12.0f} {warm:>14.0f}  {'ok' if ok else 'MISS'} (≤{PAGE_TARGET_MS:.0f})")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
          f"(holds the pandas copies as well as the app)")
    print("all targets met" if not misses else f"{misses} target(s) missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
