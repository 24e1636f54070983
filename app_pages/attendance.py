"""考勤: attendance and absence per site and school, and the sites with unusual absence."""

import streamlit as st

from examdash import web
from examdash.views import attendance, common, guidance
from examdash.web import charts, filters

page = web.page("admin", "staff")
f = filters.sidebar()
st.title("考勤")
hint = page.view(guidance.build, page.user.role, f.batch, page.today, guidance.PEOPLE + ("attendance",))
if hint.text:
    st.info(hint.text)
phase = page.view(common.batch_phase, f.batch, page.today)
if not phase.has_results:
    st.info(f"{common.batch_name(page.run, f.batch)}：{phase.text}。")
    st.stop()
if hint.lacks("registrations"):
    st.stop()
view = page.view(attendance.build, f)

st.caption(f"筛选：{f.describe()}。缺考率 = 缺考 /（实到 + 缺考）；违纪计入实到；没有签到记录和成绩的考生记为未登记。")
for col, (label, value, help_text) in zip(st.columns(len(view.metrics)), view.metrics):
    col.metric(label, value, help=help_text)

st.subheader("缺考异常的考点")
st.caption(attendance.ABSENCE_RULE + f" 本次全国缺考率：{common.pct(view.national_rate)}。")
if len(view.unusual_table):
    st.dataframe(view.unusual_table, hide_index=True, key="attendance_unusual_table")
else:
    st.success("没有缺考异常的考点。")

tab_site, tab_school = st.tabs(["按考点", "按院校"])
with tab_site:
    st.plotly_chart(charts.bar(view.by_site, "label", "absence_rate", title=f"缺考率最高的 {common.CHART_ROWS} 个考点",
                               x_title="考点", y_title="缺考率", percent=True, horizontal=True,
                               height=140 + 24 * len(view.by_site)), key="attendance_site_chart")
    with st.expander("全部考点的出勤与缺考"):
        st.dataframe(view.by_site_table, hide_index=True, key="attendance_site_table")
with tab_school:
    st.plotly_chart(charts.bar(view.by_school, "label", "absence_rate", title=f"缺考率最高的 {common.CHART_ROWS} 所院校",
                               x_title="院校", y_title="缺考率", percent=True, horizontal=True,
                               height=140 + 24 * len(view.by_school)), key="attendance_school_chart")
    with st.expander("全部院校的出勤与缺考"):
        st.dataframe(view.by_school_table, hide_index=True, key="attendance_school_table")

st.subheader("缺考与违纪名单")
choice = st.radio("考勤情况", ["全部", *attendance.EXCEPTIONS], horizontal=True, key="attendance_exception_status")
listed = page.view(attendance.exceptions, f, None if choice == "全部" else choice, True)
st.caption(f"{listed.summary}（筛选：{f.describe()}）。姓名和身份证号已脱敏；记录来源为成绩表的，是没有签到记录、成绩表记为缺考的考生。")
st.dataframe(listed.table, hide_index=True, key="attendance_exceptions_table")
web.download_buttons(listed.files, "下载名单", "attendance_exceptions", {"rows": len(listed.table)})
