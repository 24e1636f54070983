"""复核: the publicity week's review queue, decisions, score versions and certificate sign-offs (staff)."""

import streamlit as st

from examdash import web
from examdash.views import guidance, reviews
from examdash.web import charts, filters

page = web.page("admin", "staff")
f = filters.sidebar(("batch",))
view = page.view(reviews.build, f.batch, page.today)

st.title(f"成绩复核 · {view.window.batch_name}")
st.caption(f"今天：{view.today:%Y-%m-%d}。{view.window_text}。")
hint = page.view(guidance.build, page.user.role, f.batch, page.today, guidance.SCORES)
if hint.text:
    st.info(hint.text)
flash = st.session_state.pop("reviews_flash", None)
if flash:
    (st.success if flash[0] else st.error)(flash[1])
for col, (label, value, help_text) in zip(st.columns(len(view.metrics)), view.metrics):
    col.metric(label, value, help=help_text)

queue_tab, done_tab, history_tab, cert_tab, log_tab = st.tabs(["待处理队列", "已结论", "成绩版本", "证书签发", "处理记录"])

with queue_tab:
    st.dataframe(view.open_table, hide_index=True, key="reviews_open_table")
    files = reviews.downloads(f.batch, view.open_table, "复核队列")
    web.download_buttons(files, "下载", "reviews_queue_download", {"rows": len(view.open_table)})
    if len(view.by_school):
        st.plotly_chart(charts.review_status_bars(view.by_school), key="reviews_by_school_chart")
        with st.expander("各院校复核项数字"):
            st.dataframe(view.by_school, hide_index=True, key="reviews_by_school_table")

    st.subheader("处理复核项")
    labels = reviews.item_labels(view.open_items)
    if not labels:
        st.info("没有待处理的复核项。")
    else:
        shown = st.session_state.get("reviews_item")  # chosen before this run; gone once decided elsewhere
        if shown is not None and shown not in labels and shown != st.session_state.get("reviews_decided"):
            st.warning("所选复核项已不在待处理队列中（可能已由他人处理），未作任何更改；请重新选择。")
        item_id = st.selectbox("复核项", list(labels), format_func=labels.get, key="reviews_item")
        # Every key carries the item id, so each item gets its own empty form and nothing typed for one
        # item can be submitted for another.
        keys = {f"reviews_action_{item_id}": None, f"reviews_theory_{item_id}": None,
                f"reviews_practical_{item_id}": None, f"reviews_note_{item_id}": ""}
        if st.session_state.pop("reviews_reset", None) == item_id:
            # Popping alone leaves the browser holding the old values (and sending them back on the next
            # click); values set before the widgets are drawn are pushed to it.
            st.session_state.update(keys)
        st.caption(reviews.item_state(view.open_items, item_id))
        action = st.radio("处理", list(reviews.ACTIONS), index=None, format_func=reviews.ACTIONS.get,
                          horizontal=True, key=f"reviews_action_{item_id}")
        theory = practical = None
        if action == "更正":
            c1, c2 = st.columns(2)
            theory = c1.number_input("更正后理论成绩", 0.0, 100.0, value=None, step=0.5, format="%.1f",
                                     placeholder="0-100", key=f"reviews_theory_{item_id}")
            practical = c2.number_input("更正后实操成绩", 0.0, 100.0, value=None, step=0.5, format="%.1f",
                                        placeholder="0-100", key=f"reviews_practical_{item_id}")
            st.caption("更正不会覆盖原成绩：新增一个成绩版本，原版本保留；合格结论按本批次该级别的合格规则重新计算。")
        note = st.text_area("说明（结论须写明依据）", key=f"reviews_note_{item_id}", max_chars=500)
        if st.button("提交处理", type="primary", key=f"reviews_submit_{item_id}"):
            result = reviews.act(page.con, page.user, item_id, action, note, theory, practical)
            st.session_state["reviews_flash"] = result
            if result[0]:
                for key in keys:
                    st.session_state.pop(key, None)
                st.session_state["reviews_reset"] = st.session_state["reviews_decided"] = item_id
            st.rerun()

with done_tab:
    st.dataframe(view.closed_table, hide_index=True, key="reviews_closed_table")

with history_tab:
    if not view.tickets:
        st.info("本批次还没有复核申请。")
    else:
        ticket = st.selectbox("准考证号", view.tickets, key="reviews_history_ticket")
        st.dataframe(reviews.history_table(page.run, f.batch, ticket), hide_index=True, key="reviews_history_table")
        st.caption("每次更正新增一个版本，原成绩保留；各页面均采用最新版本。")

with cert_tab:
    st.caption(f"颁发证书须同时满足：公示期已结束（{view.window.cert_from:%Y-%m-%d} 起）、该校没有未结复核、"
               "培训评价组织与学校均已签发。")
    st.dataframe(view.certificates_table, hide_index=True, key="reviews_cert_table")
    if not view.window.is_over(view.today):
        st.info(f"公示期 {view.window.span} 结束后方可签发。")
    elif not view.signable:
        st.info("没有可由培训评价组织签发的院校（已签发或尚有未结复核）。")
    else:
        schools = st.multiselect("为以下院校签发（培训评价组织）", list(view.signable), format_func=view.signable.get,
                                 key="reviews_sign_schools")
        c1, c2 = st.columns(2)
        if c1.button("签发所选院校", key="reviews_sign"):
            st.session_state["reviews_flash"] = reviews.org_sign(page.con, page.user, f.batch, schools)
            st.rerun()
        if c2.button(f"为全部 {len(view.signable)} 所符合条件的院校签发", key="reviews_sign_all"):
            st.session_state["reviews_flash"] = reviews.org_sign(page.con, page.user, f.batch, list(view.signable))
            st.rerun()

with log_tab:
    st.subheader("状态变更")
    st.dataframe(view.events_table, hide_index=True, key="reviews_events_table")
    st.subheader("被拒绝的操作（逾期申请、非本校考生、重复处理等）")
    st.dataframe(reviews.refusals_table(web.query_live, f.batch), hide_index=True, key="reviews_refusals_table")
