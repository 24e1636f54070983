"""本校成绩: a school leader's results beside the provincial and national figures, and their score table."""

import streamlit as st

from examdash import web
from examdash.views import attendance, common, guidance, progress, school
from examdash.web import charts, filters

page = web.page("school")
f = filters.sidebar(("batch",))
view = page.view(school.build, page.user, f.batch)

st.title(f"本校成绩 · {view.school_name}")
web.progress_panel(page.view(progress.build, page.today, "school"), "school_progress")
hint = page.view(guidance.build, page.user.role, f.batch, page.today, guidance.SCORES)
if hint.text:
    st.info(hint.text)
phase = page.view(common.batch_phase, f.batch, page.today)
if not phase.has_results:
    st.info(f"{common.batch_name(page.run, f.batch)}：{phase.text}。")
    st.stop()
if hint.lacks("registrations"):
    st.stop()
st.caption(f"院校代码 {view.school_code}；省份 {view.province or '—'}。其他院校只显示汇总数字，不显示个人信息或排名。")
for col, (label, value, help_text) in zip(st.columns(len(view.metrics)), view.metrics):
    col.metric(label, value, help=help_text)

st.subheader("合格率：本校、本省与全国")
st.plotly_chart(charts.bar(view.comparison, "级别", "合格率", title="各级别合格率对比", x_title="级别", y_title="合格率",
                           color="范围", percent=True), key="school_compare_chart")
if view.withheld:
    st.caption(view.withheld)
with st.expander("对比数字"):
    st.dataframe(view.comparison_table, hide_index=True, key="school_compare_table")

st.subheader("本校考生成绩")
table = page.view(school.candidates, page.user, f.batch)
st.caption(f"共 {len(table):,} 人（本校考生，信息完整显示）")
st.dataframe(table, hide_index=True, key="school_candidates_table")
web.download_buttons(school.downloads(page.user, f.batch, table), "下载", "school_download", {"rows": len(table)})

st.subheader("本校缺考与违纪考生")
listed = page.view(attendance.exceptions, f, None, False)
st.caption(f"{listed.summary}（本校考生，信息完整显示）")
st.dataframe(listed.table, hide_index=True, key="school_exceptions_table")
web.download_buttons(listed.files, "下载名单", "school_exceptions", {"rows": len(listed.table)})
