"""Import benchmark (targets in docs/ARCHITECTURE.md): our importer against a naive pandas/openpyxl baseline.

    .venv/bin/python bench/import_bench.py [--rows-xlsx 100000] [--rows-csv 1000000] [--keep DIR] [--profile]

Builds a fresh store twice, the DuckLake the app uses (SQLite catalog) and, for comparison in the same
run, a plain DuckDB file (demo schools and sites imported into each), generates a registration .xlsx (batch
2023-1, with a title row) and a registration CSV (UTF-8 with BOM, batch 2023-2) with the demo
generator (time printed, not measured), then measures, each step in its own 'spawn' child process
so that peak memory is per step: (a) our import of the .xlsx, (d) its re-import (must change
nothing), (b) our import of the CSV, each on both stores (the targets hold for the lake), and (c) the baseline: pandas.read_excel with openpyxl plus
loading the frame into an in-memory DuckDB (register + create table as select). Prints one table
with wall and CPU seconds, peak RSS, target and verdict; a step whose rows did not all reach the
database fails whatever its speed. --keep DIR keeps (and reuses) the generated files; --profile
adds cProfile runs of both imports. Exit code 0 even when a target is missed: a benchmark, not a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import multiprocessing as mp  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

SEED = 20230527
XLSX_TITLE = "2023年第一次数字营销技术应用全国统考 报名信息表"
TARGET_XLSX_S = 3.0  # per 100k rows
TARGET_CSV_S = 5.0  # per 1M rows
TARGET_RATIO = 5.0


# ---------------------------------------------------------------- helpers (parent and children)

def peak_mb() -> float:
    """Peak RSS of this process (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hwm_mb() -> float | None:
    """VmHWM of this process's address space (reset at exec, so nothing inherited from the parent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def cpu_s() -> float:
    """CPU seconds of this process so far (user + system, all threads): less disturbed by other load."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_in_child(fn, *args):
    """Run fn(*args) in a fresh spawned interpreter; its result dict gets the child's peak memory."""
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as ex:
        return ex.submit(_child_wrapper, fn, args).result()


def _child_wrapper(fn, args):
    out = fn(*args)
    out["peak_mb"] = peak_mb()
    out["hwm_mb"] = hwm_mb()
    return out


def _reg_frame(rows: int, batch: str):
    from examdash import demo

    world = demo.make_world(SEED)
    # make_registrations drops the rare duplicate (id, level) draw: ask for a few more, keep `rows`.
    frame = demo.make_registrations(world, rows + rows // 200 + 10, batch, SEED)
    return frame.head(rows).reset_index(drop=True)


# ---------------------------------------------------------------- steps (run in children)

def step_setup(work: str, db_file: str) -> dict:
    from examdash import demo
    from examdash.importers import import_file
    from examdash.store import db

    t0 = time.perf_counter()
    files = demo.generate(Path(work) / "demo_small", seed=SEED, candidates=200)
    con = db.connect(db_file)
    msgs = []
    for kind, path, batch in files:
        if kind in ("schools", "sites"):
            res = import_file(con, kind, path, batch=batch, actor="bench", db_file=Path(db_file))
            msgs.append(res.summary())
            if not res.ok:
                msgs.extend(res.lines(limit=10))
                raise RuntimeError("\n".join(msgs))
    con.close()
    return {"seconds": time.perf_counter() - t0, "messages": msgs}


def step_gen_xlsx(path: str, rows: int) -> dict:
    from examdash import demo

    t0 = time.perf_counter()
    frame = _reg_frame(rows, "2023-1")
    t1 = time.perf_counter()
    demo.write_xlsx(frame, Path(path), title=XLSX_TITLE)
    return {"rows": len(frame), "seconds": time.perf_counter() - t0, "make_s": t1 - t0}


def step_gen_csv(path: str, rows: int) -> dict:
    from examdash import demo

    t0 = time.perf_counter()
    frame = _reg_frame(rows, "2023-2")
    t1 = time.perf_counter()
    demo.write_csv(frame, Path(path), "utf-8-sig")
    return {"rows": len(frame), "seconds": time.perf_counter() - t0, "make_s": t1 - t0}


def step_import(db_file: str, path: str, batch: str, profile: bool = False) -> dict:
    from examdash.importers import import_file
    from examdash.store import db

    t0 = time.perf_counter()
    con = db.connect(db_file)
    t1 = time.perf_counter()
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    c2, t2 = cpu_s(), time.perf_counter()
    res = import_file(con, "registrations", path, actor="bench", db_file=Path(db_file))
    t3, c3 = time.perf_counter(), cpu_s()
    if prof is not None:
        prof.disable()
    # What is really stored for the batch (the import's own counts are not proof).
    stored = con.execute("select count(*) from registrations where batch_code = $b", {"b": batch}).fetchall()[0][0]
    con.close()
    out = {
        "stored": int(stored),
        "rows": res.rows_total, "seconds": t3 - t2, "cpu": c3 - c2, "connect_s": t1 - t0, "ok": res.ok,
        "added": res.added, "replaced": res.replaced, "unchanged": res.unchanged,
        "errors": len(res.errors), "warnings": len(res.warnings), "summary": res.summary(),
        "lines": res.lines(limit=5) if res.issues else [],
        "phases": "，".join(f"{k} {v:.2f} s" for k, v in res.seconds.items()),
    }
    if prof is not None:
        import io
        import pstats

        buf = io.StringIO()
        st = pstats.Stats(prof, stream=buf).strip_dirs()
        st.sort_stats("cumulative").print_stats(30)
        st.sort_stats("tottime").print_stats(20)
        out["profile"] = buf.getvalue()
    return out


def step_baseline(path: str) -> dict:
    import duckdb
    import pandas as pd

    c0, t0 = cpu_s(), time.perf_counter()
    df = pd.read_excel(path, engine="openpyxl", dtype=str, header=1)
    t1 = time.perf_counter()
    con = duckdb.connect()  # in-memory
    con.register("_df", df)
    con.execute("create table registrations_raw as select * from _df")
    n = con.execute("select count(*) from registrations_raw").fetchall()[0][0]
    t2, c2 = time.perf_counter(), cpu_s()
    con.close()
    return {"rows": int(n), "seconds": t2 - t0, "cpu": c2 - c0, "read_s": t1 - t0, "load_s": t2 - t1}


# ---------------------------------------------------------------- parent

def _fmt_s(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}"


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text, width: int, right: bool = False) -> str:
    """Pad to a display width (CJK characters take two columns in a terminal)."""
    text = "" if text is None else str(text)
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Import benchmark")
    ap.add_argument("--rows-xlsx", type=int, default=100_000)
    ap.add_argument("--rows-csv", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="work in DIR and keep the files there (generated files already in DIR are reused)")
    ap.add_argument("--profile", action="store_true",
                    help="after the measured run, profile both imports with cProfile (extra runs, not timed in the table)")
    args = ap.parse_args(argv)

    if args.keep:
        work = args.keep.resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="examdash_bench_"))
    db_file, native_file = work / "bench.ducklake", work / "bench.duckdb"
    for p in list(work.glob("bench.ducklake*")) + list(work.glob("bench.duckdb*")):
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    shutil.rmtree(work / "bench_imports", ignore_errors=True)
    xlsx = work / f"报名_2023-1_{args.rows_xlsx}.xlsx"
    csvf = work / f"报名_2023-2_{args.rows_csv}.csv"

    try:
        print(f"工作目录：{work}")
        for label, f in (("DuckLake", db_file), ("DuckDB 文件", native_file)):
            r = run_in_child(step_setup, str(work), str(f))
            print(f"准备：新建 {label} {f.name}，导入演示院校与考点 {r['seconds']:.2f} s")
            for m in r["messages"]:
                print("  " + m)

        for label, path, fn, rows in (("xlsx", xlsx, step_gen_xlsx, args.rows_xlsx),
                                      ("CSV (UTF-8 BOM)", csvf, step_gen_csv, args.rows_csv)):
            if args.keep and path.exists():
                print(f"生成 {label}：沿用已有文件 {path.name}（{path.stat().st_size / 1e6:.1f} MB）")
                continue
            g = run_in_child(fn, str(path), rows)
            print(f"生成 {label}：{g['rows']} 行，{g['seconds']:.1f} s（其中生成数据 {g['make_s']:.1f} s），"
                  f"{path.stat().st_size / 1e6:.1f} MB，峰值 {g['peak_mb']:.0f} MB（不计入测量）")

        xlsx_rows, csv_rows = args.rows_xlsx, args.rows_csv  # the generator writes exactly these
        load_before = os.getloadavg()
        print("测量中（每步在单独的 spawn 子进程中运行）……", flush=True)
        a = run_in_child(step_import, str(db_file), str(xlsx), "2023-1")
        d = run_in_child(step_import, str(db_file), str(xlsx), "2023-1")
        b = run_in_child(step_import, str(db_file), str(csvf), "2023-2")
        na = run_in_child(step_import, str(native_file), str(xlsx), "2023-1")
        nd = run_in_child(step_import, str(native_file), str(xlsx), "2023-1")
        nb = run_in_child(step_import, str(native_file), str(csvf), "2023-2")
        c = run_in_child(step_baseline, str(xlsx))
        load_after = os.getloadavg()

        for name, res in (("(a) xlsx", a), ("(d) 重新导入 xlsx", d), ("(b) CSV", b),
                          ("DuckDB 文件 (a) xlsx", na), ("DuckDB 文件 (d)", nd), ("DuckDB 文件 (b) CSV", nb)):
            print(f"  {name}：{res['summary']}（打开数据库 {res['connect_s']:.2f} s，不计入；"
                  f"库中该批次 {res['stored']} 行）")
            print(f"    分步：{res['phases']}")
            for line in res["lines"]:
                print("    " + line)

        t_xlsx = TARGET_XLSX_S * args.rows_xlsx / 100_000
        t_csv = TARGET_CSV_S * args.rows_csv / 1_000_000
        scaled_x = "" if args.rows_xlsx == 100_000 else "（按行数折算）"
        scaled_c = "" if args.rows_csv == 1_000_000 else "（按行数折算）"
        ratio = c["seconds"] / a["seconds"] if a["seconds"] else float("inf")
        # A fast import that does not store every row is no success: check what the database holds.
        problems = {}
        for key, res, n_file in (("a", a, xlsx_rows), ("b", b, csv_rows)):
            if not res["ok"] or res["added"] != n_file or res["stored"] != n_file:
                problems[key] = (f"({key}) 应新增并存入 {n_file} 行：导入结果 新增 {res['added']}，"
                                 f"库中该批次 {res['stored']} 行，错误 {res['errors']} 个")
        if not d["ok"] or d["added"] + d["replaced"] or d["stored"] != xlsx_rows:
            problems["d"] = (f"(d) 重新导入应无变化：新增 {d['added']}，替换 {d['replaced']}，"
                             f"库中该批次 {d['stored']} 行")

        def verdict(key: str, fast_enough: bool) -> str:
            return "FAIL*" if key in problems else ("ok" if fast_enough else "FAIL")

        rows = [
            ("(a) 导入 xlsx（本系统）", a["rows"], a["seconds"], a["cpu"], a["peak_mb"], f"≤ {t_xlsx:g} s{scaled_x}",
             verdict("a", a["seconds"] <= t_xlsx)),
            ("(b) 导入 CSV（本系统）", b["rows"], b["seconds"], b["cpu"], b["peak_mb"], f"≤ {t_csv:g} s{scaled_c}",
             verdict("b", b["seconds"] <= t_csv)),
            ("(c) 基线 read_excel+DuckDB", c["rows"], c["seconds"], c["cpu"], c["peak_mb"], "—", "—"),
            ("(d) 重新导入 xlsx", d["rows"], d["seconds"], d["cpu"], d["peak_mb"], "0 处变化", verdict("d", True)),
            ("对照：DuckDB 文件 (a) xlsx", na["rows"], na["seconds"], na["cpu"], na["peak_mb"],
             f"湖/文件 {a['seconds'] / na['seconds']:.2f}x", "—"),
            ("对照：DuckDB 文件 (b) CSV", nb["rows"], nb["seconds"], nb["cpu"], nb["peak_mb"],
             f"湖/文件 {b['seconds'] / nb['seconds']:.2f}x", "—"),
            ("对照：DuckDB 文件 (d) 重新导入", nd["rows"], nd["seconds"], nd["cpu"], nd["peak_mb"],
             f"湖/文件 {d['seconds'] / nd['seconds']:.2f}x", "—"),
            ("xlsx 基线/本系统 倍数", None, ratio, None, None, f"≥ {TARGET_RATIO:g}x", verdict("ratio", ratio >= TARGET_RATIO)),
        ]
        print()
        print("基线 (c)：pandas.read_excel(engine='openpyxl', dtype=str, header=1) 读取 "
              f"{c['read_s']:.2f} s + DuckDB 内存库 con.register + create table as select 写入 {c['load_s']:.2f} s")
        widths = (28, 9, 8, 8, 8)
        print("(a)(b)(d) 在 DuckLake（SQLite 目录，应用使用的存储）上测量，目标按它判定；“对照”为同一文件导入普通 DuckDB 文件。")
        print(_pad("步骤", 28) + _pad("行数", 9, True) + _pad("秒", 8, True) + _pad("CPU秒", 8, True) + _pad("峰值MB", 8, True)
              + "  " + _pad("目标", 24) + "结果")
        print("-" * 92)
        for step, n, sec, cpu, mb, target, result in rows:
            sec = f"{sec:.1f}x" if step.startswith("xlsx 基线") else _fmt_s(sec)
            cells = (step, n, sec, _fmt_s(cpu), None if mb is None else f"{mb:.0f}")
            print("".join(_pad(v, w, k > 0) for k, (v, w) in enumerate(zip(cells, widths)))
                  + "  " + _pad(target, 24) + result)
        print("-" * 92)
        print("秒 = 墙钟时间（目标按它判定）；CPU秒 = 该步子进程的 user+sys（含多线程），受其他负载影响较小。"
              f"系统负载（1 分钟）：测量前 {load_before[0]:.2f}，测量后 {load_after[0]:.2f}（2 核机器上 >0.5 说明有别的任务在跑）")
        hwm = " / ".join(f"{k} {r['hwm_mb']:.0f}" for k, r in (("a", a), ("b", b), ("c", c), ("d", d)) if r["hwm_mb"])
        print(f"峰值 MB = 各步子进程的 ru_maxrss（VmHWM：{hwm or '无'}）；本进程 ru_maxrss {peak_mb():.0f} MB，"
              f"子进程最大 {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")
        for line in problems.values():
            print("FAIL* 数据不对：" + line)
        missed = [r[0] for r in rows if r[-1].startswith("FAIL")]
        print("未达标：" + "、".join(missed) if missed else "全部达标。")

        if args.profile:
            # The measured runs above left their rows in place: profile into a fresh database.
            for label, path, batch in (("xlsx", xlsx, "2023-1"), ("CSV", csvf, "2023-2")):
                prof_db = work / f"profile_{label}.ducklake"
                for leftover in work.glob(prof_db.name + "*"):
                    shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
                run_in_child(step_setup, str(work), str(prof_db))
                p = run_in_child(step_import, str(prof_db), str(path), batch, True)
                print(f"\n==== cProfile：导入 {label}（{p['seconds']:.2f} s，含分析开销）====")
                print(p["profile"])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
