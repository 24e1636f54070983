"""本校费用: the signed-in school's own fee statement (charges, payments, balance) and its .xlsx."""

import streamlit as st

from examdash import web
from examdash.views import exports, guidance, school_fees

page = web.page("school")
view = page.view(school_fees.build, page.user)

st.title(f"本校费用 · {view.school_name}")
st.caption(f"院校代码 {view.school_code}；省份 {view.province or '—'}。全部批次合计，只含本校的应缴、到账与余额。")
hint = page.view(guidance.build, page.user.role, None, page.today, ("registrations",))
if hint.text:
    st.info(hint.text)
for col, (label, value, help_text) in zip(st.columns(len(view.metrics)), view.metrics):
    col.metric(label, value, help=help_text)
web.download_button(st, "下载对账单 .xlsx", school_fees.statement_file(web.bound_query(), page.con, view.school_code), view.statement_name,
                    exports.MIME["xlsx"], "school_fees_statement_download", {"school": view.school_code})

st.subheader("汇款信息")
st.dataframe(view.payee, hide_index=True, key="school_fees_payee_table")
st.caption("汇款时请在备注中原样填写下面这段文字（右上角可复制），到账才能自动认到本校：")
st.code(view.remark, language=None)

st.subheader("分批次")
web.money_table(view.per_batch, "school_fees_batches_table")
st.subheader("报名费用明细")
web.money_table(view.lines, "school_fees_lines_table")
st.subheader("到账记录")
web.money_table(view.payments, "school_fees_payments_table")
st.caption("汇款未出现在到账记录里的，可能因付款单位或备注无法识别而待认领：请把银行流水号告知考务人员。")
with st.expander("计费规则"):
    st.caption("\n\n".join(school_fees.RULES))
