"""Load: the real server, N concurrent browser sessions working the 成绩 page for a while, and an
admin importing a large registration file through the 导入 page at the same time.

Prints p50 / p95 page-ready times (a filter change until Streamlit has finished the rerun) and errors.
Only loopback traffic; every loop is bounded by a deadline.

    .venv/bin/python bench/load_bench.py [--sessions 20] [--seconds 60] [--import-rows 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402

from examdash import demo  # noqa: E402
from examdash.store import db  # noqa: E402


def password(username: str) -> str:
    """The bench store's own passwords: a store whose accounts keep the published demo passwords takes
    no imports (the 导入 page refuses), so the bench gives them these first."""
    return f"Bench-{username}-2026"

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
TIMEOUT = 120_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_file: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true"],
        cwd=ROOT, env={**os.environ, "EXAMDASH_DB": str(db_file)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    for line in proc.stdout:
        if "URL:" in line:
            break
    return proc, f"http://127.0.0.1:{port}"


async def settled(page) -> None:
    await page.wait_for_load_state("networkidle")
    await page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=TIMEOUT)


async def login(page, url: str, user: str) -> None:
    await page.goto(url)
    await page.get_by_label("用户名").fill(user)
    await page.get_by_label("密码").fill(password(user))
    await page.get_by_role("button", name="登录").click()
    await settled(page)


async def open_page(page, title: str) -> None:
    await page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    await settled(page)


async def choose(page, label: str, option: str) -> None:
    await page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name=label).click()
    await page.get_by_role("option", name=option, exact=True).click()


async def worker(browser, url: str, deadline: float, times: list, errors: list, index: int) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        await login(page, url, "staff")
        await open_page(page, "成绩")
        levels = ["初级", "中级", "全部"]
        k = index
        while time.monotonic() < deadline:
            k += 1
            start = time.monotonic()
            try:
                await choose(page, "级别", levels[k % 3])
                await settled(page)
                if await page.locator('[data-testid="stException"]').count():
                    errors.append("exception shown on the page")
                times.append(time.monotonic() - start)
            except Exception as exc:  # a timeout or a broken page counts as an error, and the loop goes on
                errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    finally:
        await context.close()


async def importer(browser, url: str, upload: Path, report: dict) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(600_000)
    await login(page, url, "admin")
    await open_page(page, "导入")
    await page.locator('[data-testid="stMain"]').get_by_role("combobox", name="文件类型").click()
    await page.get_by_role("option", name="报名（registrations）", exact=True).click()
    await settled(page)
    start = time.monotonic()
    await page.locator('input[type="file"]').set_input_files(str(upload))
    await page.get_by_role("button", name="确认导入").wait_for()
    report["checked_s"] = time.monotonic() - start
    await page.get_by_role("button", name="确认导入").click()
    await page.get_by_text("已写入").first.wait_for()
    report["imported_s"] = time.monotonic() - start
    await context.close()


async def run(args) -> None:
    work = Path(tempfile.mkdtemp(prefix="load_bench_"))
    print(f"building a demo database ({args.candidates:,} candidates) in {work}")
    subprocess.run([sys.executable, "-m", "examdash", "--db", str(work / "load.ducklake"), "demo", "--candidates",
                    str(args.candidates), "--out", str(work / "exports")], cwd=ROOT, check=True, capture_output=True)
    con = db.connect(work / "load.ducklake")
    try:
        demo.retire_published_passwords(con, password, "bench")
    finally:
        con.close()
    upload = work / f"追加报名_{args.import_rows}.csv"
    rows = demo.make_registrations(demo.make_world(), args.import_rows, "2023-2", seed=2026).assign(准考证号="")
    demo.write_csv(rows, upload)
    proc, url = start_server(work / "load.ducklake")
    times: list[float] = []
    errors: list[str] = []
    report: dict = {}
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            deadline = time.monotonic() + args.seconds
            tasks = [worker(browser, url, deadline, times, errors, i) for i in range(args.sessions)]
            tasks.append(importer(browser, url, upload, report))
            results = await asyncio.gather(*tasks, return_exceptions=True)
            errors += [f"{type(r).__name__}: {r}" for r in results if isinstance(r, Exception)]
            await browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.sessions} sessions x {args.seconds} s on the 成绩 page, with a {args.import_rows:,}-row import "
          f"through the 导入 page at the same time (2 cores)")
    if times:
        q = statistics.quantiles(times, n=20)
        print(f"page-ready  n={len(times)}  p50={statistics.median(times):.2f} s  p95={q[18]:.2f} s  max={max(times):.2f} s")
    print(f"import: checked in {report.get('checked_s', float('nan')):.1f} s, written after "
          f"{report.get('imported_s', float('nan')):.1f} s")
    print(f"errors: {len(errors)}")
    for e in sorted(set(errors))[:10]:
        print(f"  {errors.count(e)} x {e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--import-rows", type=int, default=200_000)
    parser.add_argument("--candidates", type=int, default=60_000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
