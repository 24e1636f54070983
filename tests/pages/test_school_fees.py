"""AppTest of the fee pages: 费用 (staff: figures, filters, the assign form, downloads) and 本校费用
(a school's own statement). Expected figures come from the demo generator or raw tables."""

from __future__ import annotations

import io

import openpyxl
from fees_expected import fen, sheet, yuan_metric
from helpers import ROOT, login, metrics, page_as, rows, scalar, table
from streamlit.testing.v1 import AppTest

from examdash.domain import auth, plan
from examdash.views.fees import TOTAL

STAFF_PAGE, SCHOOL_PAGE = "app_pages/fees.py", "app_pages/school_fees.py"


def test_school_user_sees_only_their_own_statement(app_env, demo_db_con, downloads):
    me = auth.reload_user(demo_db_con, "school1")
    others = [r[0] for r in rows(demo_db_con, "select school_code from schools where school_code <> $c", {"c": me.school_code})]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["school"] = others[0]
    at.run()
    login(at, "school1")
    at.session_state["_filter_school"] = others[0]
    at.switch_page(SCHOOL_PAGE).run()
    assert not at.exception
    assert at.title[0].value == f"本校费用 · {me.school_name}"

    own_refs = {r[0] for r in rows(demo_db_con, "select bank_ref from payments where school_code = $c", {"c": me.school_code})}
    assert set(table(at, "匹配方式")["银行流水号"]) == own_refs
    charged = scalar(demo_db_con, "select count(*) from registrations where school_code = $c and status = '正常'",
                     {"c": me.school_code})
    assert int(table(at, "单价来源")["收费人次"].sum()) == charged

    wb = openpyxl.load_workbook(io.BytesIO(downloads(at.get("download_button")[0])))
    summary = sheet(wb, "汇总").set_index("项目")
    assert summary.loc["院校代码", "内容"] == me.school_code
    pays = sheet(wb, "到账记录")
    assert set(pays[pays["银行流水号"] != TOTAL]["银行流水号"]) == own_refs
    paid = scalar(demo_db_con, "select coalesce(sum(amount_fen), 0)::bigint from payments where school_code = $c",
                  {"c": me.school_code})
    assert fen(summary.loc["已到账合计", "金额（元）"]) == paid
    assert metrics(at)["已缴"] == yuan_metric(paid)


def test_the_payee_and_the_schools_exact_remark_are_on_the_page_and_the_statement(app_env, demo_db_con, downloads):
    payee = plan.load_plan().payee
    me = auth.reload_user(demo_db_con, "school1")
    at = page_as("school_fees", me)
    assert not at.exception
    shown = table(at, "项目", "内容").set_index("项目")["内容"]
    assert shown["账号"] == payee.account and shown["开户行"] == payee.bank and shown["公司名称"] == payee.company
    remark = f"{me.school_name}1+X考核费用"
    assert shown["付款备注（请原样填写）"] == remark
    assert [c.value for c in at.code] == [remark]  # st.code: a copy button beside it

    wb = openpyxl.load_workbook(io.BytesIO(downloads(at.get("download_button")[0])))
    sent = sheet(wb, "汇款信息").set_index("项目")["内容"]
    assert sent["纳税人识别号"] == payee.taxpayer_id and sent["付款备注（请原样填写）"] == remark


def test_staff_see_the_payee_and_the_remark_of_the_chosen_school(app_env, demo_db_con):
    at = page_as("fees", "staff", demo_db_con)
    assert not at.exception
    code = at.selectbox(key="fees_statement_school").value
    name = scalar(demo_db_con, "select school_name from schools where school_code = $c", {"c": code})
    shown = table(at, "项目", "内容").set_index("项目")["内容"]
    assert shown["付款备注（请原样填写）"] == f"{name}1+X考核费用"
    assert shown["账号"] == plan.load_plan().payee.account
