"""AppTest of the fee pages: 费用 (staff: figures, filters, the assign form, downloads) and 本校费用
(a school's own statement). Expected figures come from the demo generator or raw tables."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from fees_expected import demo_standards, expected_lines, fen, sheet, yuan_metric
from helpers import (
    app_as,
    app_rows,
    click_download,
    finish_file_job,
    metrics,
    page_as,
    rows,
    scalar,
    table,
)

from examdash.domain import fees
from examdash.views.fees import (
    TOTAL,
    statement_file_name,
    statement_xlsx,
)

STAFF_PAGE, SCHOOL_PAGE = "app_pages/fees.py", "app_pages/school_fees.py"


def test_staff_page_figures_equal_hand_computed_ones(app_env, demo_db_con, demo_frames, demo_world):
    at = app_as("staff", STAFF_PAGE)
    assert at.title[0].value == "费用"
    exp = expected_lines(demo_frames, demo_world, demo_standards())
    paid = scalar(demo_db_con, "select sum(amount_fen)::bigint from payments where school_code is not null")
    queued = rows(demo_db_con, "select count(*), sum(amount_fen)::bigint from payments where school_code is null")[0]
    m = metrics(at)
    assert m["应缴"] == yuan_metric(int(exp.amount_fen.sum()))
    assert m["已缴（已匹配）"] == yuan_metric(paid)
    assert m["余额"] == yuan_metric(paid - int(exp.amount_fen.sum()))
    assert m["待认领到账"] == f"{queued[0]:,} 笔"
    refund = -int(exp.settlement_fen.sum())
    assert m["多退少补·应退"] == yuan_metric(refund) and m["多退少补·应补"] == "0.00 元"
    assert not at.error
    assert sum("✓ 核对相符" in c.value for c in at.caption) == 3

    bal = table(at, "状态")
    assert len(bal) == exp.school_code.nunique()
    assert sum(bal["余额（元）"]) == Decimal(paid - int(exp.amount_fen.sum())) / 100
    settled = table(at, "多退少补")
    assert set(settled["省份"]) == set(exp[exp.basis == "settled"].province)
    queue = table(at, "原因")
    assert len(queue) == queued[0]


def test_staff_page_filters_change_the_figures(app_env, demo_frames, demo_world):
    exp = expected_lines(demo_frames, demo_world, demo_standards())
    at = app_as("staff", STAFF_PAGE)
    at.radio(key="fees_period").set_value("所选批次").run()
    at.selectbox(key="filters_batch").set_value("2023-2").run()
    assert metrics(at)["应缴"] == yuan_metric(int(exp[exp.batch_code == "2023-2"].amount_fen.sum()))
    assert not at.error  # the reconciliation still holds for one batch

    at.selectbox(key="filters_province").set_value("四川省").run()
    sc = exp[(exp.batch_code == "2023-2") & (exp.province == "四川省")]
    assert metrics(at)["应缴"] == yuan_metric(int(sc.amount_fen.sum()))
    assert set(table(at, "状态")["省份"]) == {"四川省"}
    assert set(table(at, "每人次多退少补（元）")["省份"]) == {"四川省"}

    at.radio(key="fees_period").set_value("全部批次").run()
    all_sc = exp[exp.province == "四川省"]
    assert metrics(at)["应缴"] == yuan_metric(int(all_sc.amount_fen.sum()))
    assert at.query_params["province"] in (["四川省"], "四川省")


def test_page_totals_equal_the_sum_of_the_statement_files(app_env, demo_db_con, deferred):
    at = app_as("staff", STAFF_PAGE)
    m = metrics(at)
    codes = table(at, "状态")["院校代码"].tolist()
    # The files the page's .zip download holds: built in the background (a child process writes the
    # workbooks), then served and audited at the click.
    button = finish_file_job(at, "fees_statements_zip_download")
    archive = zipfile.ZipFile(io.BytesIO(click_download(deferred, button)))
    assert len(archive.namelist()) == len(codes)
    charged = paid = balance = 0
    seen = set()
    for member in archive.namelist():
        wb = openpyxl.load_workbook(io.BytesIO(archive.read(member)), read_only=True)
        summary = sheet(wb, "汇总").set_index("项目")
        seen.add(summary.loc["院校代码", "内容"])
        lines = sheet(wb, "报名费用明细")
        charged += sum(fen(v) for v in lines[lines["考试批次"] != TOTAL]["应缴（元）"])
        pays = sheet(wb, "到账记录")
        paid += sum(fen(v) for v in pays[pays["银行流水号"] != TOTAL]["金额（元）"])
        balance += fen(summary.loc["余额", "金额（元）"])
    assert seen == set(codes)
    assert m["应缴"] == yuan_metric(charged)
    assert m["已缴（已匹配）"] == yuan_metric(paid)
    assert m["余额"] == yuan_metric(balance) == yuan_metric(paid - charged)

    # A member of the zip is the school's single statement.
    code = codes[0]
    single = openpyxl.load_workbook(io.BytesIO(statement_xlsx(demo_db_con, code)))
    member = next(n for n in archive.namelist() if f"_{code}_" in n)
    zipped = openpyxl.load_workbook(io.BytesIO(archive.read(member)))
    for name in ("分批次", "报名费用明细", "到账记录"):
        assert sheet(single, name).equals(sheet(zipped, name)), name


def test_assign_form_moves_a_queued_payment_to_exactly_one_school(private_app):
    con = private_app
    ref, amount, note = rows(con, "select bank_ref, amount_fen, match_note from payments "
                                  "where match_method = '多个院校匹配' order by bank_ref limit 1")[0]
    candidates = fees.candidates_in(note)
    target = candidates[1]
    queued = scalar(con, "select count(*) from payments where school_code is null")

    at = page_as(STAFF_PAGE, "staff", con)
    before = table(at, "状态").set_index("院校代码")["余额（元）"].to_dict()
    at.button(key="fees_assign_submit").click().run()
    assert any("请先选择院校" in e.value for e in at.error)

    at.selectbox(key="fees_assign_payment").set_value(ref).run()
    options = at.selectbox(key="fees_assign_school").options
    assert all("（候选）" in o for o in options[:len(candidates)])
    at.selectbox(key="fees_assign_school").set_value(target)
    at.text_input(key="fees_assign_note").set_value("与学校财务核对")
    at.button(key="fees_assign_submit").click().run()
    assert not at.exception
    assert any(ref in s.value and target in s.value for s in at.success)

    assert metrics(at)["待认领到账"] == f"{queued - 1:,} 笔"
    after = table(at, "状态").set_index("院校代码")["余额（元）"].to_dict()
    assert after[target] - before[target] == Decimal(amount) / 100
    assert {k: v for k, v in after.items() if k != target} == {k: v for k, v in before.items() if k != target}
    assert ref not in set(table(at, "原因")["银行流水号"])
    who, detail = rows(con, "select actor, detail from audit_log where action = 'assign_payment' and target = $r",
                       {"r": ref})[0]
    assert who == "staff" and "与学校财务核对" in detail
    assert scalar(con, "select school_code from payments where bank_ref = $r", {"r": ref}) == target


def test_staff_downloads_are_statements_and_balances_and_are_audited(private_app, downloads):
    con = private_app
    at = page_as(STAFF_PAGE, "staff", con)
    code = table(at, "状态")["院校代码"].iat[0]
    at.selectbox(key="fees_statement_school").set_value(code).run()
    button = next(b for b in at.get("download_button") if b.key == "fees_statement_download")
    wb = openpyxl.load_workbook(io.BytesIO(downloads(button)))
    assert sheet(wb, "汇总").set_index("项目").loc["院校代码", "内容"] == code
    csv = next(b for b in at.get("download_button") if b.key == "fees_balances_download_csv")
    text = downloads(csv).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("院校代码,院校名称,省份,收费人次,应缴（元）")
    assert "'-" not in text  # negative balances stay numbers, not neutralised text
    # audited when built (the click itself runs nothing on the page)
    statement = statement_file_name(code, table(at, "状态").set_index("院校代码").loc[code, "院校名称"])
    assert app_rows(con, "select actor, target from request_events where action = 'download' order by event_id desc "
                         "limit 2") \
        == [("staff", "费用余额_全部批次.csv"), ("staff", statement)]


@pytest.mark.parametrize("page, username", [(STAFF_PAGE, "school1"), (SCHOOL_PAGE, "staff"), (SCHOOL_PAGE, "admin")])
def test_fee_pages_refuse_the_wrong_role(app_env, demo_db_con, page, username):
    at = page_as(page, username, demo_db_con)
    assert any("无权访问" in e.value for e in at.error)
    assert not at.dataframe and not at.metric
