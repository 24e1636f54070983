"""费用: per school and province charged / paid / balance, 多退少补, the unmatched-payment queue, statements."""

import streamlit as st

from examdash import web
from examdash.views import exports, fees, guidance
from examdash.web import charts, filters

page = web.page("admin", "staff")
f = filters.sidebar(("batch", "province", "school"))

st.title("费用")
period = st.radio(
    "统计范围", [fees.ALL_BATCHES, "所选批次"], horizontal=True, key="fees_period",
    help="到账按院校计、不分批次。选「所选批次」时只计该批次的应缴，院校的到账按考试先后冲抵，分摊到该批次的部分计入。",
)
batch = None if period == fees.ALL_BATCHES else f.batch
hint = page.view(guidance.build, page.user.role, batch, page.today, guidance.FEES)
if hint.text:
    st.info(hint.text)
view = page.view(fees.build, batch, f.province, f.school, f.batch)
st.caption(
    f"统计范围：{view.period}。应缴按缴费院校所在省份在考试日有效的省级标准计价，没有的按暂行标准"
    "（初级 270 元、中级 280 元/人·次）；考后当年公布标准的按公布标准多退少补。余额 = 已缴 − 应缴，负数为欠费。"
)
with st.expander("计费与对账规则"):
    st.caption("\n\n".join(fees.RULES))

flash = st.session_state.pop("fees_flash", None)
if flash:
    st.success(flash)

for row in (view.metrics[:4], view.metrics[4:8]):
    for col, (label, value, help_text) in zip(st.columns(4), row):
        col.metric(label, value, help=help_text)
for text, ok in view.checks:
    if ok:
        st.caption(f"✓ 核对相符：{text}")
    else:
        st.error(f"核对不符：{text}")

describe = "_".join(v for v in (view.period, f.province, f.school) if v)
tabs = st.tabs(["按院校", "按省份", "多退少补", "待认领到账", "到账明细", "收费单价", "对账单"])

with tabs[0]:
    st.caption(f"{len(view.balances):,} 所院校（有应缴或有到账）；按余额从欠费最多排起。")
    web.money_table(view.balances, "fees_balances_table")
    files = fees.balances_downloads(view.balances_raw, describe)
    web.download_buttons(files, "下载余额表", "fees_balances_download", {"rows": len(view.balances)})

with tabs[1]:
    st.plotly_chart(charts.bar(view.province_chart, "省份", "金额（元）", title="各省应缴与已缴", x_title="省份",
                               y_title="金额（元）", color="项目"), key="fees_province_chart")
    with st.expander("各省数字", expanded=True):
        web.money_table(view.by_province, "fees_province_table")

with tabs[2]:
    st.caption("考试日本省尚无省级标准、按暂行标准收取，考后当年内公布了标准的院校：按公布标准多退少补"
               "（已计入应缴和余额）。金额为差额，「应退」退给院校，「应补」由院校补缴。")
    web.money_table(view.settlement, "fees_settlement_table")

with tabs[3]:
    st.caption("认不出院校或可能属于多所院校的到账在这里等待认领；认领之前不计入任何院校的已缴与余额。")
    web.money_table(view.queue, "fees_queue_table")
    if len(view.to_check):
        st.caption(f"自动匹配置信度低于 {fees.AUTO_CHECK_BELOW:.1f} 的到账（已计入匹配院校，请核对）：")
        web.money_table(view.to_check, "fees_to_check_table")
    options, labels, cands = fees.assignable(view)
    st.subheader("认领到账")
    if not options:
        st.info("没有待认领或待核对的到账。")
    else:
        ref = st.selectbox("到账记录", options, format_func=lambda r: labels[r], key="fees_assign_payment")
        schools = fees.school_choices(page.run)
        names = dict(zip(schools.code, schools.name))
        first = [c for c in cands.get(ref, []) if c in names]
        codes = first + [c for c in schools.code if c not in first]
        target = st.selectbox(
            "认领到院校", codes, index=None, placeholder="输入院校代码或名称搜索", key="fees_assign_school",
            format_func=lambda c: f"{c} {names.get(c, '')}" + ("（候选）" if c in first else ""),
        )
        note = st.text_input("说明（可选，记入审计日志）", key="fees_assign_note")
        if st.button("确认认领", key="fees_assign_submit", type="primary"):
            refusal = fees.assign(page.con, page.user, ref, target, note)
            if refusal:
                st.error(refusal)
            else:
                st.session_state["fees_flash"] = f"已将银行流水号 {ref} 认领到 {target} {names.get(target, '')}。"
                st.rerun()
    if st.button("对待认领到账重新自动匹配", key="fees_rematch"):
        st.session_state["fees_flash"] = fees.rematch(page.con, page.user)
        st.rerun()

with tabs[4]:
    st.caption("已匹配或已认领到院校的到账，每个银行流水号一行。")
    web.money_table(view.payments, "fees_payments_table")

with tabs[5]:
    st.caption(f"{f.batch} 各省每人次单价（省份为缴费院校所在省份）。")
    web.money_table(view.prices, "fees_prices_table")

with tabs[6]:
    listed = view.balances_raw
    codes = listed.school_code.tolist()
    if not codes:
        st.info("当前筛选下没有院校。")
    else:
        names = dict(zip(listed.school_code, listed.school_name))
        default = codes.index(f.school) if f.school in codes else 0
        code = st.selectbox("院校", codes, index=default, format_func=lambda c: f"{c} {names[c]}",
                            key="fees_statement_school")
        name = fees.statement_file_name(code, names[code])
        st.caption("对账单包括全部批次：汇总、汇款信息（收款账户与该校的付款备注）、分批次、报名费用明细（单价及其来源）、"
                   "到账记录与计费规则。")
        st.dataframe(fees.payee_table(view.payee, names[code]), hide_index=True, key="fees_statement_payee")
        web.download_button(st, "下载对账单 .xlsx", fees.statement_file(web.bound_query(), page.con, code), name, exports.MIME["xlsx"],
                            "fees_statement_download", {"school": code})
    zip_name = f"费用对账单_{describe}.zip"
    web.file_job(st.container(), f"当前筛选下全部 {len(codes):,} 所院校的对账单 .zip",
                 fees.all_statements(page.con, web.scope(), f.province, f.school), zip_name, exports.MIME["zip"],
                 "fees_statements_zip_download", {"schools": len(codes)}, disabled=not codes)
