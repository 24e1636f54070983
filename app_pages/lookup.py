"""考生成绩查询 (signed-out): a candidate's own result by 准考证号 and the last 6 characters of the ID number."""

import streamlit as st

from examdash import web
from examdash.views import lookup

st.title("考生成绩查询")
st.caption("输入准考证号和身份证号后 6 位，查询本人的成绩、合格情况、成绩复核进度与证书状态。")
with st.expander("各批次可查询的日期"):
    st.markdown("\n".join(f"- {line}" for line in lookup.windows(web.con())))
with st.form("lookup_form"):
    ticket = st.text_input("准考证号", max_chars=32, key="lookup_ticket")
    id_tail = st.text_input("身份证号后 6 位", max_chars=6, type="password", key="lookup_id_tail",
                            help="末位为 X 的请输入 X")
    submitted = st.form_submit_button("查询", type="primary", key="lookup_submit")
if submitted:
    kind, answer = lookup.find(web.con(), ticket, id_tail, web.client_address())
    if kind == "ok":
        st.dataframe(answer, hide_index=True, key="lookup_result")
        st.caption("姓名已部分隐去。对成绩有异议的，请在成绩公示期内联系报名院校，由院校统一提交成绩复核申请。")
    elif kind == "refused":
        st.error(answer)
    else:
        st.warning(answer)
