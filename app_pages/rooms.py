"""考场编排: a site's rooms and seats for a batch, proposed from its registrations and seats, adjusted, locked,
and its exam-day materials (签到表, 门贴, 桌签) as PDF and .xlsx."""

import streamlit as st

from examdash import web
from examdash.views import common, guidance, rooms
from examdash.web import filters

page = web.page("admin", "staff", "site")
f = filters.sidebar(("batch",))
st.title("考场编排")
flash = st.session_state.pop("rooms_flash", None)
if flash:
    (st.success if flash[0] else st.error)(flash[1])
hint = page.view(guidance.build, page.user.role, f.batch, page.today, ("sites", "registrations"))
if hint.text:
    st.info(hint.text)
if hint.lacks("sites"):
    st.stop()
site = None
if page.user.role != "site":
    choices = page.view(common.site_choices)
    site = st.selectbox("考点", list(choices), format_func=choices.get, key="rooms_site")
view = page.view(rooms.build, page.user, f.batch, site)
st.caption(f"{view.site_code} {view.site_name}：{view.state} 中级 08:30–11:30、初级 14:00–16:30 分场考试，"
           "两个级别各自使用全部机位。")
for flag in view.flags:
    st.warning(flag)

with st.form("rooms_arrange_form"):
    size = st.number_input("每考场机位数", min_value=1, max_value=200, value=view.room_seats, step=1,
                           key="rooms_room_seats", disabled=view.locked)
    label = "重新编排" if view.arranged else "编排考场"
    if st.form_submit_button(label, disabled=view.locked, key="rooms_arrange"):
        st.session_state["rooms_flash"] = rooms.arrange(page.con, page.user, f.batch, view.site_code, size)
        st.rerun()
if view.arranged:
    c1, c2 = st.columns(2)
    if not view.locked and c1.button("锁定编排", key="rooms_lock"):
        st.session_state["rooms_flash"] = rooms.lock(page.con, page.user, f.batch, view.site_code, True)
        st.rerun()
    if view.locked and view.can_unlock and c2.button("解锁（考务人员）", key="rooms_unlock"):
        st.session_state["rooms_flash"] = rooms.lock(page.con, page.user, f.batch, view.site_code, False)
        st.rerun()

    st.subheader("各考场")
    st.dataframe(view.summary, hide_index=True, key="rooms_summary_table")
    st.subheader("物料")
    if view.pdf_problem:
        st.warning(view.pdf_problem)
    for i, (col, (label, (build, name, mime))) in enumerate(zip(st.columns(4), rooms.files(view).items())):
        web.download_button(col, label, build, name, mime, f"rooms_file_{i}", {"site": view.site_code, "batch": f.batch},
                            disabled=bool(view.pdf_problem) and label.endswith("PDF"))
    st.subheader("座位")
    st.dataframe(view.table, hide_index=True, key="rooms_seats_table")
    if not view.locked:
        with st.form("rooms_move_form", clear_on_submit=True):
            c1, c2, c3 = st.columns(3)
            ticket = c1.text_input("准考证号", key="rooms_move_ticket")
            room = c2.text_input("调到考场", key="rooms_move_room", placeholder="如 02")
            seat = c3.text_input("座号", key="rooms_move_seat", placeholder="如 15")
            if st.form_submit_button("调整座位（与原座位考生对调）", key="rooms_move"):
                st.session_state["rooms_flash"] = rooms.move(page.con, page.user, f.batch, view.site_code, ticket, room,
                                                             seat)
                st.rerun()
