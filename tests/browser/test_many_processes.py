"""Several processes on one store: two real app servers and the command line at once, on the embedded
DuckLake (SQLite catalog) and on a PostgreSQL catalog (a local PostgreSQL server in a temp folder, Debian's
`postgresql` package, installed by `make test`). The same code path; only EXAMDASH_DB differs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from helpers import ROOT, copy_db, own_password, retire_demo_passwords
from playwright.sync_api import expect, sync_playwright

from browser.test_browser import (
    ARGS,
    CHROMIUM,
    _choose,
    _free_port,
    _login,
    _metric,
    _open,
    _page,
    _settled,
    start_server,
)
from examdash import demo
from examdash.store import db

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def _cli(store: str, env: dict, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "examdash", "--db", store, *map(str, args)], cwd=ROOT,
                          env={**os.environ, **env, "PYTHONIOENCODING": "utf-8"}, capture_output=True, text=True,
                          timeout=600)


def _count(page) -> int:
    return int(_metric(page, "报名人数").replace(",", ""))


def _two_servers_and_the_command_line(browser, store: str, env: dict, folder: Path) -> None:
    con = db.connect(store)
    batches = [r[0] for r in con.execute("select batch_code from batches order by batch_code").fetchall()]
    con.close()
    servers = [start_server(store, folder, **env) for _ in range(2)]
    a, b = (next(s) for s in servers)
    try:
        pa, pb = _page(browser), _page(browser)
        for page, server in ((pa, a), (pb, b)):
            _login(page, server["url"], "admin", own_password("admin"))

        # an account made in one process signs in on the other
        _open(pa, "用户")
        main = pa.locator('[data-testid="stMain"]')
        main.get_by_role("textbox", name="用户名").fill("lake_user")
        main.get_by_role("textbox", name="显示名").fill("湖")
        main.get_by_role("textbox", name="初始密码").fill("Lake-user-2024")
        main.get_by_role("button", name="创建").click()
        expect(main.get_by_text("已创建账号 lake_user")).to_be_visible()
        other = _page(browser)
        _login(other, b["url"], "lake_user", "Lake-user-2024")
        expect(other.get_by_role("heading", name="总览", exact=False).first).to_be_visible()

        # and disabled in the other, it no longer signs in on the first
        _open(pb, "用户")
        main_b = pb.locator('[data-testid="stMain"]')
        main_b.get_by_role("tab", name="停用 / 启用 / 重置密码").click()
        _choose(pb, main_b, "账号", "lake_user")
        main_b.get_by_role("button", name="停用").click()
        expect(main_b.get_by_text("账号 lake_user 已停用")).to_be_visible()
        again = _page(browser)
        _login(again, a["url"], "lake_user", "Lake-user-2024")
        expect(again.get_by_text("用户名或密码错误")).to_be_visible()

        # the command line imports while both serve; both show it at their next page run
        counts = {}
        for page in (pa, pb):
            _open(page, "总览")
            counts[id(page)] = _count(page)
        extra = folder / "补录报名.csv"
        world = demo.make_world()  # 9 more of every batch: whichever the overview shows grows by 9
        demo.write_csv(pd.concat([demo.make_registrations(world, 9, b, seed=99 + i).assign(准考证号="")
                                  for i, b in enumerate(batches)], ignore_index=True), extra)
        done = _cli(store, env, "import", "registrations", extra, "--user", "命令行")
        assert done.returncode == 0, done.stderr
        assert f"新增 {9 * len(batches)}" in done.stdout
        for page in (pa, pb):
            page.reload()
            _settled(page)
            expect(page.locator('[data-testid="stMetric"]').filter(has_text="报名人数").first).to_contain_text(
                f"{counts[id(page)] + 9:,}")
        for page in (pa, pb, other, again):
            page.context.close()
    finally:
        for s in servers:
            s.close()


def test_two_app_processes_and_an_import_on_the_embedded_lake(browser, demo_db_path, tmp_path):
    store = copy_db(demo_db_path, tmp_path / "shared.ducklake")
    con = db.connect(store)
    retire_demo_passwords(con)
    con.close()
    _two_servers_and_the_command_line(browser, str(store), {}, tmp_path)


def test_two_app_processes_and_an_import_on_a_postgresql_catalog(browser, postgres, tmp_path, monkeypatch):
    env = {"EXAMDASH_DATA_PATH": str(tmp_path / "lake_data")}
    monkeypatch.setenv("EXAMDASH_DATA_PATH", env["EXAMDASH_DATA_PATH"])  # this process opens the store too
    made = _cli(postgres, env, "demo", "--candidates", "600", "--out", tmp_path / "exports")
    assert made.returncode == 0, made.stderr
    con = db.connect(postgres)
    assert db.store_of(con).kind == "postgres"
    retire_demo_passwords(con)
    con.close()
    _two_servers_and_the_command_line(browser, postgres, env, tmp_path)
    assert any((tmp_path / "lake_data").rglob("*.parquet"))  # the data went to the shared data path
    assert any((tmp_path / "lake_data" / "imports").iterdir())  # and the imported originals with it
    assert not list(ROOT.glob("postgres*"))
