"""AppTest of the 报名, 考勤 and 成绩 pages: staff signed in, every shared filter driven, the figures
shown compared with pandas on the demo export files."""

from __future__ import annotations

import io
import re

import analytics_expected as ex
import openpyxl
from analytics_expected import drive, pct
from helpers import app_rows, finish_file_job, metrics, page_as, sign_in, table

PAGES = ["app_pages/registrations.py", "app_pages/attendance.py", "app_pages/scores.py"]


def test_scores_page(app_env, demo_db_con, cand):
    at = page_as("app_pages/scores.py", sign_in(demo_db_con, "staff"))
    assert not at.exception

    def check(at, d):
        m = metrics(at)
        levels = ex.rates(d, ["level"]).set_index("level")
        for level, row in levels.iterrows():
            assert m[f"{level}合格率"] == pct(row.pass_rate)
            assert "合格规则" in [x for x in at.metric if x.label == f"{level}合格率"][0].help
        shown = table(at, "级别", "报名", "实考", "合格", "合格率", "合格规则").set_index("级别")
        for level, row in levels.iterrows():
            assert shown.loc[level, ["报名", "实考", "合格"]].tolist() == [row.registered, row.sat, row.passed]
            assert shown.loc[level, "合格率"] == pct(row.pass_rate)
            assert shown.loc[level, "合格规则"] == "理论与实操均≥60分"
        scores = table(at, "考试批次", "准考证号", "姓名", "身份证号")
        assert len(scores) == min(len(d), 1000)
        if len(d) <= 1000:
            assert sorted(scores["准考证号"]) == sorted(d.ticket_no)
        assert scores["身份证号"].str.fullmatch(r"\d{6}\*{8}[0-9X]{4}").all()

    drive(at, cand, check, batch="2023-1")
    assert len(at.get("plotly_chart")) >= 8


def test_scores_page_unmasked_view_and_downloads_are_audited(app_env, demo_db_con, cand, deferred):
    at = page_as("app_pages/scores.py", sign_in(demo_db_con, "staff"))
    d = ex.select(cand, "2023-1")
    scores = table(at, "考试批次", "准考证号", "姓名", "身份证号")
    assert len(scores) == 1000 < len(d)  # the page shows the first 1,000 rows
    assert any(f"共 {len(d):,} 人" in c.value and "前 1,000 行" in c.value for c in at.caption)
    by_ticket = d.set_index("ticket_no")
    assert all(n.endswith("*") for n in scores["姓名"]) and scores["姓名"].map(len).tolist() == \
        by_ticket.loc[scores["准考证号"], "name"].map(len).tolist()

    def audit_count(action):
        return app_rows(demo_db_con, "select count(*) from request_events where action = $a and actor = 'staff'",
                        {"a": action})[0][0]

    before = audit_count("view_unmasked")
    at.checkbox(key="scores_table_unmasked").check().run()
    assert not at.exception
    full = table(at, "考试批次", "准考证号", "姓名", "身份证号")
    assert full["身份证号"].tolist() == by_ticket.loc[full["准考证号"], "id_no"].tolist()
    assert full["姓名"].tolist() == by_ticket.loc[full["准考证号"], "name"].tolist()
    assert audit_count("view_unmasked") == before + 1
    at.run()
    assert audit_count("view_unmasked") == before + 1  # audited once per tick, not per rerun

    labels = [b.label for b in at.get("download_button")]
    assert any(".csv" in x for x in labels) and not any(".xlsx" in x for x in labels)  # the .xlsx is built on request
    assert "生成 .xlsx" in at.button(key="scores_table_download_xlsx_start").label
    finish_file_job(at, "scores_table_download_xlsx")
    buttons = {b.key: b for b in at.get("download_button") if b.key.startswith("scores_table_download_")}
    assert set(buttons) == {"scores_table_download_xlsx", "scores_table_download_csv"}
    # the click must not rerun the script: a rerun hands both buttons new file ids, and a second
    # click while it runs would ask for an id that is gone and get nothing
    assert buttons and all(b.proto.ignore_rerun for b in buttons.values())
    # the file is built on click, outside the script (as Streamlit's server does), and audited then
    downloads = audit_count("download")
    data = deferred[buttons["scores_table_download_xlsx"].proto.deferred_file_id]()
    assert audit_count("download") == downloads + 1
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == len(d) + 1
    target, detail = app_rows(
        demo_db_con, "select target, detail from request_events where action = 'download' order by event_id desc limit 1")[0]
    assert target == "成绩表_2023-1.xlsx"
    assert f'"rows": {len(d)}' in detail and '"masked": false' in detail


def test_page_tables_have_chinese_headers(app_env, demo_db_con):
    user = sign_in(demo_db_con, "staff")
    for page in PAGES:
        at = page_as(page, user)
        for df in at.dataframe:
            for col in df.value.columns:
                assert re.search(r"[\u4e00-\u9fff]", str(col)), (page, col)
