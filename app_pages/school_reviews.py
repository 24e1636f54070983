"""成绩复核申请: a school leader files the school's review request during the publicity window,
follows its items, and signs off for certificates after the window."""

import streamlit as st

from examdash import filters, review_views, reviews, web

web.require("school")
f = filters.sidebar(("batch",))
view = review_views.school_view(f.batch)

st.title(f"成绩复核申请 · {view.school_name}")
st.caption(f"今天：{view.today:%Y-%m-%d}。{review_views.window_line(view.window, view.today)}。")
flash = st.session_state.pop("school_reviews_flash", None)
if flash:
    (st.success if flash[0] else st.error)(flash[1])

st.subheader("提交复核申请")
(st.info if view.can_file else st.warning)(view.message)
st.caption("每校每批次一份申请；公示期内可继续添加考生。只能为本校考生申请。")
tickets = st.multiselect("考生（准考证号）", list(view.options), format_func=view.options.get,
                         placeholder="选择本校考生（可多选，可输入准考证号或姓名搜索）", disabled=not view.can_file,
                         key="school_reviews_tickets")
reason = st.selectbox("复核原因", reviews.REASONS, disabled=not view.can_file, key="school_reviews_reason")
text = st.text_area("说明（原因为「其他」时必填）", max_chars=500, disabled=not view.can_file, key="school_reviews_text")
if st.button("提交复核申请", type="primary", disabled=not view.can_file, key="school_reviews_submit"):
    st.session_state["school_reviews_flash"] = review_views.school_file(f.batch, tickets, reason, text)
    st.rerun()

st.subheader("本校复核申请")
if len(view.items_table):
    st.caption(f"共 {len(view.items_table)} 项，未结 {view.open_items} 项。")
    st.dataframe(view.items_table, hide_index=True, key="school_reviews_items")
else:
    st.info("本校在本批次还没有提交复核申请。")

st.subheader("证书签发")
if view.certificate:
    c = view.certificate
    cols = st.columns(4)
    cols[0].metric("合格（可发证书）", f"{int(c['passed']):,}")
    cols[1].metric("未结复核", f"{int(c['open_items'])}")
    cols[2].metric("培训评价组织", view.signed["org"])
    cols[3].metric("本校", view.signed["school"])
    st.caption(f"状态：{c['status_text']}")
st.write(view.sign_text)
if st.button("本校签发", disabled=not view.can_sign, key="school_reviews_sign"):
    st.session_state["school_reviews_flash"] = review_views.school_sign(f.batch)
    st.rerun()
