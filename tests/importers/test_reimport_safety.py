"""A re-import never orphans or blanks what other tables hang on, and shows what it would change first.

The matrix re-imports every demo export with each optional column removed in turn: the file is either
refused or changes no data anywhere (only the import log and the audit log get a row).
"""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from helpers import (
    ROOT,
    held_until,
    retire_demo_passwords,
    rows,
    scalar,
    table_snapshot,
    wait_job,
    write_frame,
)

from examdash.domain import reviews
from examdash.importers import import_file
from examdash.importers.kinds import KINDS
from examdash.importers.reading import read_table

BOOKKEEPING = ("import_log", "audit_log", "id_counters")  # every import, written or not, may add a row here


def data_tables(con) -> dict[str, list[tuple]]:
    return {k: v for k, v in table_snapshot(con).items() if k not in BOOKKEEPING}


def labelled_frame(kind: str, path) -> pd.DataFrame:
    """A demo export read back as the importer reads it, with the fields' Chinese labels as headers."""
    spec = KINDS[kind]
    raw = read_table(path, spec.alias_map, spec.required)
    return pd.DataFrame({spec.label_of(f): s for f, s in raw.columns.items()})


def optional_fields(kind: str) -> list[str]:
    return [f.name for f in KINDS[kind].fields if not f.required]


# Per kind: the demo file, the batch to name when the file has no 考试批次 column, and the optional
# columns whose removal must be refused (links the stored rows carry); every other removal changes nothing.
MATRIX = {
    "schools": ("schools", None, set()),
    "sites": ("sites", None, {"school_code"}),
    "registrations": ("registrations", "2023-1", {"ticket_no"}),
    "attendance": ("attendance", "2023-1", set()),
    "scores": ("scores", "2023-1", set()),
    "fee-standards": ("fee-standards", None, set()),
    "payments": ("payments", None, set()),
}
CASES = [(kind, f) for kind in MATRIX for f in optional_fields(kind)]


@pytest.mark.parametrize("kind, missing", CASES, ids=[f"{k}-{f}" for k, f in CASES])
def test_a_file_missing_an_optional_column_is_refused_or_changes_nothing(kind, missing, fresh_db, demo_file, tmp_path):
    _, path, file_batch = demo_file(kind, MATRIX[kind][1])
    frame = labelled_frame(kind, path)
    label = KINDS[kind].label_of(missing)
    if label not in frame and missing != "batch_code":  # the demo's sign-in sheet has no 考试批次 column already
        pytest.fail(f"the demo's {kind} export has no 「{label}」 column to remove")
    batch = file_batch or (MATRIX[kind][1] if missing == "batch_code" else None)
    short = write_frame(frame.drop(columns=[label], errors="ignore"), tmp_path / f"{kind}_无{label}.csv")
    before = data_tables(fresh_db)
    result = import_file(fresh_db, kind, short, batch=batch)
    if missing in MATRIX[kind][2]:
        assert not result.ok, f"a {kind} file without 「{label}」 was accepted"
        assert any(label in i.message and "已拒绝" in i.message for i in result.errors), result.lines()
    else:
        assert result.ok, result.lines()
        assert (result.added, result.replaced) == (0, 0), result.summary()
    assert data_tables(fresh_db) == before


def test_registrations_without_the_ticket_column_keep_every_sign_in_and_score(fresh_db, demo_frames, tmp_path):
    """The whole batch re-sent without 准考证号 used to unlink everyone: 实考 and 合格 fell to 0."""
    regs = demo_frames["registrations"]["2023-1"].drop(columns=["准考证号"])
    sat_before = scalar(fresh_db, "select count(*) from results where batch_code = '2023-1' and sat")
    result = import_file(fresh_db, "registrations", write_frame(regs, tmp_path / "报名_无准考证号.xlsx"))
    assert not result.ok and not result.written
    message = next(i.message for i in result.errors if i.column == "准考证号")
    signed = scalar(fresh_db, "select count(*) from attendance where batch_code = '2023-1'")
    assert f"签到 {signed:,} 条" in message and "成绩" in message and "复核项" in message, message
    assert "已拒绝" in message
    assert scalar(fresh_db, "select count(*) from results where batch_code = '2023-1' and sat") == sat_before > 0


def test_a_blank_ticket_is_refused_on_its_row(fresh_db, demo_frames, tmp_path):
    regs = demo_frames["registrations"]["2023-1"].head(5).copy().reset_index(drop=True)
    old = regs.loc[2, "准考证号"]
    regs.loc[2, "准考证号"] = None
    before = data_tables(fresh_db)
    result = import_file(fresh_db, "registrations", write_frame(regs, tmp_path / "报名.csv"))
    assert not result.ok
    assert [(i.row, i.column) for i in result.errors] == [(4, "准考证号")]  # header on line 1, data from line 2
    assert old in result.errors[0].message
    assert data_tables(fresh_db) == before


def _signed_in(con, batch: str) -> str:
    """A ticket of the batch with a sign-in and a score."""
    return scalar(con, "select r.ticket_no from results r where r.batch_code = $b and r.sat and r.score_version is not null "
                       "order by r.ticket_no limit 1", {"b": batch})


def test_a_changed_ticket_is_previewed_then_takes_its_sign_in_and_scores_along(fresh_db, demo_frames, tmp_path):
    regs = demo_frames["registrations"]["2023-1"]
    old = _signed_in(fresh_db, "2023-1")
    row = regs[regs["准考证号"] == old].copy()
    row["准考证号"] = "239999999999"
    path = write_frame(row, tmp_path / "报名_改号.csv")
    before = data_tables(fresh_db)

    dry = import_file(fresh_db, "registrations", path, dry_run=True)
    assert dry.ok and dry.needs_confirm and (dry.replaced, dry.added) == (1, 0)
    assert any("准考证号将更改" in line and "签到 1 条" in line and "成绩 1 名考生" in line for line in dry.impacts), dry.impacts
    unconfirmed = import_file(fresh_db, "registrations", path)
    assert not unconfirmed.written and "请核对后确认导入" in unconfirmed.summary()
    assert data_tables(fresh_db) == before

    done = import_file(fresh_db, "registrations", path, confirm=True)
    assert done.written
    assert scalar(fresh_db, "select count(*) from attendance where batch_code = '2023-1' and ticket_no = $t", {"t": old}) == 0
    assert scalar(fresh_db, "select count(*) from attendance where batch_code = '2023-1' and ticket_no = '239999999999'") == 1
    assert scalar(fresh_db, "select count(*) from score_versions where ticket_no = '239999999999'") >= 1
    sat, version = rows(fresh_db, "select sat, score_version from results where ticket_no = '239999999999'")[0]
    assert sat and version is not None


def test_two_candidates_swapping_tickets_keep_their_own_results(fresh_db, demo_frames, tmp_path):
    regs = demo_frames["registrations"]["2023-1"]
    a, b = (r[0] for r in rows(fresh_db, "select ticket_no from results where batch_code = '2023-1' and sat "
                                        "and score_version is not null order by ticket_no limit 2"))
    scores = {t: rows(fresh_db, "select id_no, theory, practical from results where ticket_no = $t", {"t": t})[0]
              for t in (a, b)}
    pair = regs[regs["准考证号"].isin([a, b])].copy()
    pair["准考证号"] = pair["准考证号"].map({a: b, b: a})
    result = import_file(fresh_db, "registrations", write_frame(pair, tmp_path / "报名_互换.csv"), confirm=True)
    assert result.written and result.replaced == 2
    for t, (id_no, theory, practical) in scores.items():
        other = b if t == a else a
        assert rows(fresh_db, "select id_no, theory, practical from results where ticket_no = $t", {"t": other})[0] == \
            (id_no, theory, practical)


def test_a_school_change_shows_fees_and_review_items_and_needs_confirming(fresh_db, demo_frames, tmp_path):
    ticket = scalar(fresh_db, "select i.ticket_no from review_items i join review_requests r using (request_id) "
                              "where r.batch_code = '2023-1' order by i.item_id limit 1")
    regs = demo_frames["registrations"]["2023-1"]
    row = regs[regs["准考证号"] == ticket].copy()
    other = scalar(fresh_db, "select school_code from schools where school_code <> $s order by school_code limit 1",
                   {"s": row["院校代码"].iat[0]})
    row["院校代码"], row["院校名称"] = other, None
    path = write_frame(row, tmp_path / "报名_改校.csv")
    dry = import_file(fresh_db, "registrations", path, dry_run=True)
    assert dry.needs_confirm
    line = next(x for x in dry.impacts if "改换院校" in x)
    assert "2 所院校的应缴费用" in line and "1 项复核仍留在原院校" in line, line


def test_a_score_import_over_a_review_correction_needs_confirming(fresh_db, demo_file, tmp_path):
    ticket, version = rows(fresh_db, "select ticket_no, version from score_versions where source = 'review' limit 1")[0]
    frame = labelled_frame("scores", demo_file("scores", "2023-1")[1])
    row = frame[frame["准考证号"] == ticket].copy()
    row["理论成绩"] = "100" if row["理论成绩"].iat[0] != "100" else "99"
    row["总成绩"] = None
    result = import_file(fresh_db, "scores", write_frame(row, tmp_path / "成绩_更正.csv"))
    assert not result.written and result.needs_confirm
    assert any("复核更正" in line for line in result.impacts), result.impacts
    assert scalar(fresh_db, "select max(version) from score_versions where ticket_no = $t", {"t": ticket}) == version


def test_replaced_payments_keep_manual_assignments(fresh_db, demo_file, tmp_path):
    bank_ref, school = rows(fresh_db, "select bank_ref, school_code from payments where school_code is not null limit 1")[0]
    other = scalar(fresh_db, "select school_code from schools where school_code <> $s limit 1", {"s": school})
    from examdash.domain import fees

    fees.assign_payment(fresh_db, bank_ref, other, "staff", "电话确认")
    frame = labelled_frame("payments", demo_file("payments")[1])
    row = frame[frame["银行流水号"] == bank_ref].copy()
    row["备注"] = "更正后的备注"
    path = write_frame(row, tmp_path / "到账_更正.csv")
    dry = import_file(fresh_db, "payments", path, dry_run=True)
    assert dry.needs_confirm and any("人工认领的 1 笔保留" in x for x in dry.impacts), dry.impacts
    assert import_file(fresh_db, "payments", path, confirm=True).written
    assert rows(fresh_db, "select school_code, remark from payments where bank_ref = $r", {"r": bank_ref}) == \
        [(other, "更正后的备注")]


def test_an_unchanged_file_without_optional_columns_says_they_are_kept(fresh_db, demo_file, tmp_path):
    frame = labelled_frame("schools", demo_file("schools")[1]).drop(columns=["类型", "是否试点"])
    result = import_file(fresh_db, "schools", write_frame(frame, tmp_path / "院校_简表.csv"))
    assert result.ok and result.unchanged == len(frame)
    kept = [i for i in result.warnings if "保持不变" in i.message]
    assert {i.column for i in kept} == {"类型", "是否试点"}


def test_a_review_decision_survives_a_relinked_ticket(fresh_db, demo_frames, tmp_path):
    item_id, ticket = rows(fresh_db, "select i.item_id, i.ticket_no from review_items i join review_requests r "
                                     "using (request_id) where r.batch_code = '2023-1' order by i.item_id limit 1")[0]
    regs = demo_frames["registrations"]["2023-1"]
    row = regs[regs["准考证号"] == ticket].copy()
    row["准考证号"] = "238888888888"
    assert import_file(fresh_db, "registrations", write_frame(row, tmp_path / "报名.csv"), confirm=True).written
    assert scalar(fresh_db, "select ticket_no from review_items where item_id = $i", {"i": item_id}) == "238888888888"
    queue = reviews.certificate_status(fresh_db, "2023-1")
    assert len(queue)


def _new_ticket_file(db_path, demo_frames, tmp_path, ticket: str, retire: bool = False):
    """A registration file giving a signed-in, scored candidate of 2023-1 a new ticket. `retire`: give the
    demo's accounts their own passwords first (the command line refuses a store with published ones)."""
    from examdash.store import db

    con = db.connect(db_path)
    try:
        old = _signed_in(con, "2023-1")
        if retire:
            retire_demo_passwords(con)
    finally:
        con.close()
    regs = demo_frames["registrations"]["2023-1"]
    row = regs[regs["准考证号"] == old].copy()
    row["准考证号"] = ticket
    return write_frame(row, tmp_path / "报名_改号.csv")


class _Uploaded:
    """What st.file_uploader hands the page: a name and the bytes."""

    def __init__(self, path):
        self.name, self._data = path.name, path.read_bytes()

    def getvalue(self) -> bytes:
        return self._data


def _import_page(fresh_db_path, path, monkeypatch):
    """The 导入 page as the admin of a store of real data, with `path` as if uploaded, kind 报名 chosen."""
    import time

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from examdash import demo, web
    from examdash.domain import auth

    monkeypatch.setenv("EXAMDASH_DB", str(fresh_db_path))
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    # AppTest cannot drive st.file_uploader: the page gets the file as if it had been uploaded.
    monkeypatch.setattr(st, "file_uploader", lambda *args, **kwargs: [_Uploaded(path)])
    # The demo store takes no imports while its accounts have the published passwords (test_security).
    monkeypatch.setattr(demo, "published_accounts", lambda con: [])
    at = AppTest.from_file(str(ROOT / "app_pages/imports.py"), default_timeout=60)
    at.session_state[web.USER_KEY] = auth.User("admin", "系统管理员", "admin", None)
    at.session_state[web.SEEN_KEY] = time.monotonic()
    at.run()
    return at.selectbox(key="imports_kind").set_value("registrations").run()


def _signed_in_under(fresh_db_path, ticket: str) -> int:
    from examdash.store import db

    con = db.connect(fresh_db_path)
    try:
        return scalar(con, "select count(*) from attendance where ticket_no = $t", {"t": ticket})
    finally:
        con.close()


def test_the_import_page_shows_the_impact_and_writes_only_once_confirmed(fresh_db_path, demo_frames, tmp_path,
                                                                          monkeypatch):
    at = _import_page(fresh_db_path, _new_ticket_file(fresh_db_path, demo_frames, tmp_path, "237777777777"),
                      monkeypatch)
    assert not at.exception
    assert any("准考证号将更改" in w.value and "签到 1 条" in w.value for w in at.warning)
    assert at.button(key="imports_confirm_0").disabled
    at.checkbox(key="imports_links_0").check().run()
    at.button(key="imports_confirm_0").click().run()
    wait_job(at, "imports_write_0")
    assert any("已写入" in s.value for s in at.success), [s.value for s in at.success]
    assert _signed_in_under(fresh_db_path, "237777777777") == 1


def test_an_import_from_the_page_runs_beside_it_and_a_click_elsewhere_does_not_cut_it_short(
        fresh_db_path, demo_frames, tmp_path, monkeypatch):
    from examdash import web
    from examdash.views import imports

    release = threading.Event()
    monkeypatch.setattr(imports, "write_job", held_until(release, imports.write_job))
    at = _import_page(fresh_db_path, _new_ticket_file(fresh_db_path, demo_frames, tmp_path, "238888888888"),
                      monkeypatch)
    at.checkbox(key="imports_links_0").check().run()
    at.button(key="imports_confirm_0").click().run()
    assert not at.exception and not [b for b in at.button if b.key == "imports_confirm_0"]  # no second click
    at.selectbox(key="imports_batch").set_value("2023-2").run()  # a click elsewhere while it runs
    at.selectbox(key="imports_batch").set_value("（按文件）").run()
    assert not at.session_state[web.JOBS_KEY]["imports_write_0"].done
    release.set()
    wait_job(at, "imports_write_0")
    assert any("已写入" in s.value for s in at.success), [s.value for s in at.success]
    assert _signed_in_under(fresh_db_path, "238888888888") == 1


def test_the_cli_prints_the_impact_and_needs_confirm(fresh_db_path, demo_frames, tmp_path):
    from helpers import run_cli

    from examdash.store import db

    path = _new_ticket_file(fresh_db_path, demo_frames, tmp_path, "236666666666", retire=True)
    dry = run_cli(fresh_db_path, "import", "registrations", path, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "影响：1 名考生的准考证号将更改：其签到 1 条" in dry.stdout and "仅校验" in dry.stdout
    plain = run_cli(fresh_db_path, "import", "registrations", path)
    assert plain.returncode == 1 and "--confirm" in plain.stderr and "未写入" in plain.stdout
    done = run_cli(fresh_db_path, "import", "registrations", path, "--confirm")
    assert done.returncode == 0 and "已写入" in done.stdout, done.stdout + done.stderr
    con = db.connect(fresh_db_path, read_only=True)
    try:
        assert scalar(con, "select count(*) from attendance where ticket_no = '236666666666'") == 1
    finally:
        con.close()
