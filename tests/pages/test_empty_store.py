"""Every page of every role opens on a store that is not filled yet, and says what to import next.

Three stores, each made from a small set of the demo generator's files:

- empty: `python -m examdash init` and two accounts (admin, staff), as the README's path to real data starts,
  on the real clock. School and site accounts cannot exist yet (they need a school or site).
- reference: only the schools and sites imported (and an account of every role), on the demo's day.
- other_batch: every file but those of batch 2023-1 (so 2023-2's registrations, fee standards and payments),
  viewing 2023-1: a batch of data/exam_plan.toml, sat and in its publicity week on the demo's day, that
  nobody has registered for.

Each page runs through app.py (the role's menu, its error handling) as the account, and must show no
exception and no error (no "页面出错了" error id); where its data is missing it must say what to import
next, to an admin on the 导入 page, to anyone else whom to ask.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import streamlit as st
from helpers import DEMO_SEED, ROOT
from streamlit.testing.v1 import AppTest

from examdash import cli, demo, web
from examdash.domain import auth
from examdash.importers import import_file
from examdash.store import db
from examdash.web import navigation

PASSWORD = "Empty-store-2024"
VIEWED = "2023-1"  # the batch the other_batch store has no registrations for
ROLES = {"empty": ("admin", "staff"), "reference": ("admin", "staff", "school", "site"),
         "other_batch": ("admin", "staff", "school", "site")}
FIRST_IMPORT = {"empty": "院校名单", "reference": "报名表", "other_batch": "报名表"}  # what the guidance names first
# Where nothing the page shows is missing: the audit log never lacks anything, 用户 needs only the schools and
# sites, and 本校费用 counts every batch (the other_batch school has 2023-2 registrations).
NOTHING_MISSING = {"empty": {"audit"}, "reference": {"audit", "users"},
                   "other_batch": {"audit", "users", "school_fees"}}
ASK = {"admin": "请先在「导入」页导入", "staff": "请联系管理员", "school": "请联系考务人员", "site": "请联系考务人员"}


@dataclass(frozen=True)
class Store:
    path: Path
    accounts: dict  # role -> user name
    batch: str | None  # the batch to pick in the sidebar (None: the page's default)


CASES = [(state, role, spec.stem) for state, roles in ROLES.items() for role in roles
         for spec in navigation.pages_for(role)]


@pytest.fixture(scope="module")
def small_files(tmp_path_factory) -> list[tuple[str, Path, str | None]]:
    return demo.generate(tmp_path_factory.mktemp("small_exports"), seed=DEMO_SEED, candidates=300)


def _accounts(con, roles) -> dict:
    """An account of each role; the school and the site are those with the most registrations (the first by
    code when nothing is registered)."""
    cur = con.cursor()
    try:
        school = cur.execute("select s.school_code from schools s left join registrations r using (school_code) "
                             "group by all order by count(r.id_no) desc, 1 limit 1").fetchall()
        site = cur.execute("select s.site_code from sites s left join registrations r using (site_code) "
                           "group by all order by count(r.id_no) desc, 1 limit 1").fetchall()
    finally:
        cur.close()
    out = {}
    for role in roles:
        auth.create_user(con, f"{role}_user", f"{role} 账号", role, PASSWORD, actor="test",
                         school_code=school[0][0] if role == "school" else None,
                         site_code=site[0][0] if role == "site" else None)
        out[role] = f"{role}_user"
    return out


def _filled(path: Path, files, roles, batch: str | None) -> Store:
    con = db.connect(path)
    try:
        demo.pin_today(con)
        for kind, file, file_batch in files:
            result = import_file(con, kind, file, batch=file_batch, actor="test", db_file=path)
            assert result.ok, "\n".join(result.lines(limit=20))
        return Store(path, _accounts(con, roles), batch)
    finally:
        con.close()


@pytest.fixture(scope="module")
def stores(small_files, tmp_path_factory) -> dict[str, Store]:
    folder = tmp_path_factory.mktemp("unfilled")
    empty = folder / "empty.ducklake"
    assert cli.main(["--db", str(empty), "init"]) == cli.EXIT_OK
    con = db.connect(empty)
    try:
        made = {"empty": Store(empty, _accounts(con, ROLES["empty"]), None)}
    finally:
        con.close()
    reference = [f for f in small_files if f[0] in ("schools", "sites")]
    made["reference"] = _filled(folder / "reference.ducklake", reference, ROLES["reference"], None)
    others = [f for f in small_files if VIEWED not in f[1].name and f[2] != VIEWED]
    assert {f[0] for f in others} >= {"schools", "sites", "registrations", "payments"}
    made["other_batch"] = _filled(folder / "other_batch.ducklake", others, ROLES["other_batch"], VIEWED)
    return made


def open_page(store: Store, role: str, stem: str) -> AppTest:
    """The page from the role's menu in app.py, signed in as the store's account of that role, with the
    store's batch picked in the sidebar."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[web.USER_KEY] = auth.reload_user(web.con(), store.accounts[role])
    at.session_state[web.SEEN_KEY] = time.monotonic()
    at.switch_page(f"app_pages/{stem}.py").run()
    if store.batch and any(s.key == "filters_batch" for s in at.selectbox):
        if at.selectbox(key="filters_batch").value != store.batch:
            at.selectbox(key="filters_batch").set_value(store.batch).run()
    if stem == "fees" and store.batch:  # the batch's own fees: every batch together has 2023-2's
        at.radio(key="fees_period").set_value("所选批次").run()
    return at


@pytest.mark.parametrize("state, role, stem", CASES, ids=[f"{s}-{r}-{p}" for s, r, p in CASES])
def test_every_page_opens_and_says_what_to_import_next(stores, state, role, stem, monkeypatch, caplog):
    store = stores[state]
    monkeypatch.setenv("EXAMDASH_DB", str(store.path))
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    at = open_page(store, role, stem)

    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert not errors, errors + [r.getMessage() + "\n" + (r.exc_text or "") for r in caplog.records]
    assert at.title, f"{stem} did not run"
    if store.batch and any(s.key == "filters_batch" for s in at.selectbox):
        assert at.selectbox(key="filters_batch").value == store.batch
    guidance = [i.value for i in at.info if "还没有" in i.value]
    if stem in NOTHING_MISSING[state]:
        assert not guidance, guidance
        return
    assert guidance, f"no guidance among {[i.value for i in at.info]}"
    text = guidance[0]
    assert FIRST_IMPORT[state] in text and ASK[role] in text, text
    assert re.search(r"[\u4e00-\u9fff]", text)


def test_the_guidance_names_the_batch_and_the_import_after(stores, monkeypatch):
    """On the other_batch store the batch's own registrations are what is missing, then its sign-ins and
    scores (it has been sat); on the empty store the schools come first and the rest follow in order."""
    monkeypatch.setenv("EXAMDASH_DB", str(stores["other_batch"].path))
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    infos = [i.value for i in open_page(stores["other_batch"], "admin", "overview").info]
    assert any(f"还没有 {VIEWED} 批次的报名数据" in t and "之后再依次导入签到表、成绩表" in t for t in infos), infos

    monkeypatch.setenv("EXAMDASH_DB", str(stores["empty"].path))
    infos = [i.value for i in open_page(stores["empty"], "admin", "imports").info]
    assert any(t.startswith("还没有院校名单：请先在「导入」页导入院校名单（文件类型「院校」），之后再依次导入考点名单、报名表")
               for t in infos), infos
