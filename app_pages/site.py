"""本考点: a 考点 account's site: what is next, its candidates (borrowed and social included), registrations
against seats, attendance and results of the candidates who sat there."""

import streamlit as st

from examdash import web
from examdash.views import guidance, progress, site
from examdash.web import filters

page = web.page("site")
f = filters.sidebar(("batch",))
view = page.view(site.build, page.user, f.batch)
st.title(f"本考点 · {view.site_name}")
st.caption(f"考点代码 {view.site_code}；{view.place}。")
web.progress_panel(page.view(progress.build, page.today, "site"), "site_progress")
hint = page.view(guidance.build, page.user.role, f.batch, page.today, ("registrations", *guidance.RESULTS))
if hint.text:
    st.info(hint.text)
for col, (label, value, help_text) in zip(st.columns(len(view.metrics)), view.metrics):
    col.metric(label, value, help=help_text)

st.subheader("报名与机位")
st.dataframe(view.capacity, hide_index=True, key="site_capacity_table")

st.subheader("本考点考生")
st.caption(f"共 {len(view.candidates):,} 人，含借考与社会考生；身份证号已脱敏。其他院校考生的成绩由其院校查看，本页只显示下方的汇总数字。")
st.dataframe(view.candidates, hide_index=True, key="site_candidates_table")
web.download_buttons(view.files, "下载考生名单", "site_candidates", {"rows": len(view.candidates)})

st.subheader("各院校考勤与成绩（在本考点考试的考生）")
st.dataframe(view.by_school, hide_index=True, key="site_results_table")

st.subheader("缺考与违纪（本考点签到表）")
st.caption(f"缺考 {(view.exceptions['签到状态'] == '缺考').sum():,} 人，违纪 {(view.exceptions['签到状态'] == '违纪').sum():,} 人。")
st.dataframe(view.exceptions, hide_index=True, key="site_exceptions_table")
web.download_buttons(view.exception_files, "下载名单", "site_exceptions", {"rows": len(view.exceptions)})
