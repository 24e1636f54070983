"""本校证书: the school's certificate status, its certificate list once the certificates can be issued, and
how many paper certificates it wants."""

import streamlit as st

from examdash import web
from examdash.views import certificates, common, guidance
from examdash.web import filters

page = web.page("school")
f = filters.sidebar(("batch",))
st.title("本校证书")
flash = st.session_state.pop("school_certificates_flash", None)
if flash:
    (st.success if flash[0] else st.error)(flash[1])
    if flash[0]:  # recorded: the form starts empty again
        for key in ("school_certificates_copies", "school_certificates_note"):
            st.session_state.pop(key, None)
st.caption(f"{common.window(page.run, f.batch).line(page.today)}。")
hint = page.view(guidance.build, page.user.role, f.batch, page.today, guidance.SCORES)
if hint.text:
    st.info(hint.text)
view = page.view(certificates.school_build, page.user, f.batch, page.today)
c1, c2, c3 = st.columns(3)
c1.metric("证书状态", view.status)
c2.metric("合格人数", f"{view.passed:,}")
c3.metric("纸质证书", view.current)

st.subheader("证书名单")
if view.can_issue:
    st.caption(f"本校合格考生 {len(view.table):,} 人（本校考生，信息完整显示）。")
    st.dataframe(view.table, hide_index=True, key="school_certificates_table")
    web.download_buttons(certificates.list_files(view.table, f.batch, page.user.school_code), "下载证书名单",
                         "school_certificates", {"rows": len(view.table)})
else:
    st.info(f"证书名单在可颁发证书后提供。当前：{view.status}。")

st.subheader("纸质证书数量")
st.write(view.request_text)
with st.form("school_certificates_paper", clear_on_submit=True):
    copies = st.number_input("需要的纸质证书（份）", min_value=0, max_value=max(view.passed, 0), value=None, step=1,
                             disabled=not view.can_request, key="school_certificates_copies")
    note = st.text_input("备注（可选，如收件人与地址）", max_chars=200, disabled=not view.can_request,
                         key="school_certificates_note")
    if st.form_submit_button("登记", disabled=not view.can_request, key="school_certificates_submit"):
        st.session_state["school_certificates_flash"] = certificates.request_paper(page.con, page.user, f.batch, copies,
                                                                                  note)
        st.rerun()
