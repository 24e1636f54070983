"""成绩复核申请: a school leader files the school's review request during the publicity window,
follows its items, and signs off for certificates after the window."""

import streamlit as st

from examdash import web
from examdash.views import guidance, school_reviews
from examdash.web import filters

page = web.page("school")
f = filters.sidebar(("batch",))
view = page.view(school_reviews.build, page.user, f.batch, page.today)

st.title(f"成绩复核申请 · {view.school_name}")
st.caption(f"今天：{view.today:%Y-%m-%d}。{view.window.line(view.today)}。")
hint = page.view(guidance.build, page.user.role, f.batch, page.today, guidance.SCORES)
if hint.text:
    st.info(hint.text)
flash = st.session_state.pop("school_reviews_flash", None)
if flash:
    (st.success if flash[0] else st.error)(flash[1])

st.subheader("提交复核申请")
(st.info if view.can_file else st.warning)(view.message)
st.caption("每校每批次一份申请；公示期内可继续添加考生。只能为本校考生申请：按完整的准考证号或姓名查找，"
           "逐一加入待提交列表，并为每名考生分别选择复核原因。")
# Per batch, so a list started for one batch is never filed under another.
PENDING, FOUND, CONFIRM = (f"school_reviews_{k}_{f.batch}" for k in ("pending", "found", "confirm"))
QUERY, PICK = "school_reviews_query", "school_reviews_pick"


def row_keys(ticket: str) -> tuple[str, str]:
    return f"school_reviews_reason_{ticket}", f"school_reviews_text_{ticket}"


# A widget still on screen keeps what the browser holds (and sends it back) unless its value is set
# before it is drawn; popping its key is not enough.
for key, value in st.session_state.pop("school_reviews_reset", {}).items():
    st.session_state[key] = value
pending = st.session_state.setdefault(PENDING, [])
confirming = st.session_state.get(CONFIRM)
locked = not view.can_file or confirming is not None

c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
query = c1.text_input("准考证号或姓名", placeholder="完整的准考证号，或考生姓名", disabled=locked, key=QUERY)
if c2.button("查找", disabled=locked, key="school_reviews_find"):
    st.session_state[FOUND] = school_reviews.find_candidates(query, view.candidates, pending)
    st.session_state[PICK] = None
found, pick = st.session_state.get(FOUND), None
if found is not None:
    for note in found.notes:
        (st.info if found.tickets else st.warning)(note)
    if len(found.tickets) == 1:
        pick = found.tickets[0]
        st.write(view.label(pick))
    elif found.tickets:
        pick = st.selectbox("同名考生", found.tickets, index=None, format_func=view.label,
                            placeholder="请按准考证号选择考生", disabled=locked, key=PICK)
    if found.tickets and st.button("加入待提交列表", disabled=locked or pick is None, key="school_reviews_add"):
        if pick not in pending:
            st.session_state[PENDING] = [*pending, pick]
        del st.session_state[FOUND]
        st.session_state["school_reviews_reset"] = {QUERY: ""}
        st.rerun()

st.markdown(f"**待提交列表**（{len(pending)} 名）")
if not pending:
    st.caption("尚未加入考生。")
rows = []
for ticket in pending:
    reason_key, text_key = row_keys(ticket)
    with st.container(border=True):
        st.write(view.label(ticket))
        if ticket in view.candidates and view.candidates[ticket].filed:
            st.warning("该考生已在本校复核申请中，请移除。")
        c1, c2, c3 = st.columns([2, 5, 1], vertical_alignment="bottom")
        reason = c1.selectbox("复核原因", school_reviews.REASONS, index=None, placeholder="请选择复核原因", disabled=locked,
                              key=reason_key)
        text = c2.text_input("说明（原因为「其他」时必填）", max_chars=school_reviews.MAX_TEXT, disabled=locked, key=text_key)
        if c3.button("移除", disabled=locked, key=f"school_reviews_remove_{ticket}"):
            st.session_state[PENDING] = [t for t in pending if t != ticket]
            for key in row_keys(ticket):
                st.session_state.pop(key, None)
            st.rerun()
    rows.append(school_reviews.PendingRow(ticket, reason, text))

if st.button("提交复核申请", type="primary", disabled=locked, key="school_reviews_submit"):
    problems = school_reviews.pending_problems(rows)
    for problem in problems:
        st.error(problem)
    if not problems:
        st.session_state[CONFIRM] = rows
        st.rerun()
if confirming is not None:
    # What is listed here is what 确认提交 files: the inputs above stay locked until 返回修改.
    st.warning(f"请核对：确认后将为以下 {len(confirming)} 名考生提交复核申请。")
    st.table(school_reviews.confirm_table(confirming, view.candidates), hide_index=True)
    c1, c2 = st.columns(2)
    if c1.button("确认提交", type="primary", disabled=not view.can_file, key="school_reviews_confirm_submit"):
        result = school_reviews.file(page.con, page.user, f.batch, confirming)
        st.session_state["school_reviews_flash"] = result
        del st.session_state[CONFIRM]
        if result[0]:
            for ticket in pending:
                for key in row_keys(ticket):
                    st.session_state.pop(key, None)
            st.session_state[PENDING] = []
            st.session_state.pop(FOUND, None)
            st.session_state["school_reviews_reset"] = {QUERY: ""}
        st.rerun()
    if c2.button("返回修改", key="school_reviews_back"):
        del st.session_state[CONFIRM]
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
    st.session_state["school_reviews_flash"] = school_reviews.sign(page.con, page.user, f.batch)
    st.rerun()
