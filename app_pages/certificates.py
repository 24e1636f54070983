"""证书: per school whether its certificates can be issued, the paper certificates schools asked for (with
the totals), and the certificate lists (证书名单) to download."""

import streamlit as st

from examdash import web
from examdash.views import certificates, common, guidance
from examdash.web import filters

page = web.page("admin", "staff")
f = filters.sidebar(("batch",))
st.title("证书")
st.caption(f"{common.window(page.run, f.batch).line(page.today)}。电子版证书在公示期后由培训评价组织和学校双方签发后生成，"
           "纸质版证书按院校登记的数量发放。")
hint = page.view(guidance.build, page.user.role, f.batch, page.today, guidance.SCORES)
if hint.text:
    st.info(hint.text)
view = page.view(certificates.build, f.batch, page.today)
for col, (label, value, help_text) in zip(st.columns(len(view.metrics)), view.metrics):
    col.metric(label, value, help=help_text)

st.subheader("各院校证书状态与纸质证书")
st.dataframe(view.table, hide_index=True, key="certificates_schools_table")

st.subheader("证书名单")
if not view.ready:
    st.info("当前没有可颁发证书的院校：公示期结束、复核全部办结且双方签发后，才有证书名单。")
else:
    names = dict(zip(view.schools.school_code, view.schools.school_name))
    code = st.selectbox("院校", view.ready, format_func=lambda c: f"{c} {names[c]}", key="certificates_school")
    listed = page.view(certificates.certificate_list, f.batch, page.today, code)
    st.caption(f"{code} {names[code]}：合格 {len(listed):,} 人（完整姓名与身份证号，下载记入审计日志）。")
    st.dataframe(listed, hide_index=True, key="certificates_list_table")
    web.download_buttons(certificates.list_files(listed, f.batch, code), "下载证书名单", "certificates_list",
                         {"school": code, "rows": len(listed)}, unmasked=True)
