"""总览: the batch's calendar with today marked, and the headline figures."""

import streamlit as st

from examdash import web
from examdash.views import guidance, overview, progress
from examdash.web import charts, filters

page = web.page("admin", "staff")
f = filters.sidebar(("batch",))
data = page.view(overview.build, f.batch, page.today)

st.title(f"总览 · {data.batch_name}")
st.caption(f"今天：{data.today:%Y-%m-%d}（{data.stage_now}）")
hint = page.view(guidance.build, page.user.role, f.batch, page.today, guidance.PEOPLE + guidance.RESULTS)
if hint.text:
    st.info(hint.text)
web.progress_panel(page.view(progress.build, page.today, None), "overview_progress")
for start in range(0, len(data.headline), 4):
    for col, (label, value, help_text) in zip(st.columns(4), data.headline[start:start + 4]):
        col.metric(label, value, help=help_text)

st.subheader("考试日程")
st.plotly_chart(charts.calendar(data.calendar, data.today), key="overview_calendar")
with st.expander("日程表"):
    st.dataframe(data.calendar_table, hide_index=True, key="overview_calendar_table")

st.subheader("各级别概况")
if not data.phase.has_results:
    st.info(f"{data.batch_name}：{data.phase.text}。")
if data.by_level.empty:
    st.caption("本批次还没有报名，没有各级别的数字。")
else:
    st.plotly_chart(charts.level_funnel(data.by_level), key="overview_levels")
    with st.expander("各级别数字"):
        st.dataframe(data.by_level_table, hide_index=True, key="overview_levels_table")
