"""报名: registrations per site, school, province, level and candidate type; the daily curve to the
deadline; seats against registrations; 借考."""

import streamlit as st

from examdash import web
from examdash.views import common, guidance, registrations
from examdash.web import charts, filters

page = web.page("admin", "staff")
f = filters.sidebar()
st.title("报名")
hint = page.view(guidance.build, page.user.role, f.batch, page.today, guidance.PEOPLE)
if hint.text:
    st.info(hint.text)
if hint.lacks("registrations"):
    st.stop()
view = page.view(registrations.build, f)


def _height(frame) -> int:
    return 140 + 26 * frame["label"].nunique() if "label" in frame else 420


st.caption(f"筛选：{f.describe()}。报名人数为有效报名（不含已取消）；省份筛选按院校所在省份。")
for col, (label, value, help_text) in zip(st.columns(len(view.metrics)), view.metrics):
    col.metric(label, value, help=help_text)

st.subheader("每日累计报名")
st.plotly_chart(charts.cumulative(view.daily, view.deadline), key="registrations_daily_chart")
with st.expander("每日报名数字"):
    st.dataframe(view.daily_table, hide_index=True, key="registrations_daily_table")

st.subheader("报名分布")
tab_site, tab_school, tab_province, tab_type = st.tabs(["按考点", "按院校", "按省份", "按级别与考生类型"])
with tab_site:
    st.plotly_chart(charts.bar(view.by_site, "label", "registered", title=f"各考点报名人数（报名最多的 {common.CHART_ROWS} 个）",
                               x_title="考点", y_title="报名人数", color="level", horizontal=True,
                               height=_height(view.by_site)), key="registrations_site_chart")
    with st.expander("全部考点的报名人数"):
        st.dataframe(view.by_site_table, hide_index=True, key="registrations_site_table")
with tab_school:
    st.plotly_chart(charts.bar(view.by_school, "label", "registered", title=f"各院校报名人数（报名最多的 {common.CHART_ROWS} 所）",
                               x_title="院校", y_title="报名人数", color="level", horizontal=True,
                               height=_height(view.by_school)), key="registrations_school_chart")
    with st.expander("全部院校的报名人数"):
        st.dataframe(view.by_school_table, hide_index=True, key="registrations_school_table")
with tab_province:
    st.plotly_chart(charts.bar(view.by_province, "province", "registered", title="各省份报名人数（院校所在省份）",
                               x_title="省份", y_title="报名人数", color="level"), key="registrations_province_chart")
    with st.expander("各省份报名人数"):
        st.dataframe(view.by_province_table, hide_index=True, key="registrations_province_table")
with tab_type:
    st.plotly_chart(charts.bar(view.by_type, "level", "registered", title="各级别、各类考生报名人数",
                               x_title="级别", y_title="报名人数", color="candidate_type"), key="registrations_type_chart")
    with st.expander("各级别、各类考生报名人数"):
        st.dataframe(view.by_type_table, hide_index=True, key="registrations_type_table")

st.subheader("考点机位与报名")
st.caption(registrations.CAPACITY_NOTE)
st.plotly_chart(charts.seats_vs_registered(view.capacity), key="registrations_capacity_chart")
if len(view.over_capacity_table):
    st.error(f"{len(view.over_capacity_table)} 个考点的报名人数超出机位数：")
    st.dataframe(view.over_capacity_table, hide_index=True, key="registrations_over_capacity_table")
else:
    st.success("没有超出机位的考点。")
with st.expander("各考点机位与报名"):
    st.dataframe(view.capacity_table, hide_index=True, key="registrations_capacity_table")

st.subheader("借考")
st.caption("考生在非本校的考点参加考核（含没有考点的院校的考生）；社会考生由考点所在院校报名，不计入。")
st.metric("借考人数", f"{view.borrowed_total:,}", help="按院校与考点统计，见下表")
st.dataframe(view.borrowed_table, hide_index=True, key="registrations_borrowed_table")
