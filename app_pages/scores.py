"""成绩: pass rates by level, province, site and school (denominators and rule beside each), score
distributions, theory against practical, and the filtered score table to download."""

import streamlit as st

from examdash import web
from examdash.views import common, exports, guidance, scores
from examdash.web import charts, filters

page = web.page("admin", "staff")
f = filters.sidebar()
st.title("成绩")
hint = page.view(guidance.build, page.user.role, f.batch, page.today, guidance.PEOPLE + guidance.SCORES)
if hint.text:
    st.info(hint.text)
phase = page.view(common.batch_phase, f.batch, page.today)
if not phase.has_results:
    st.info(f"{common.batch_name(page.run, f.batch)}：{phase.text}。")
    st.stop()
if hint.lacks("registrations") or hint.lacks("scores"):
    st.stop()
view = page.view(scores.build, f)


def _height(frame) -> int:
    return 140 + 26 * frame["label"].nunique()


def _audit_unmasked(describe: str) -> None:
    if st.session_state.get("scores_table_unmasked"):
        web.audit("view_unmasked", "成绩表", {"filters": describe})


st.caption(f"筛选：{f.describe()}。合格率 = 合格 / 实考；{view.rules}。")
for col, (label, value, help_text) in zip(st.columns(len(view.metrics)), view.metrics):
    col.metric(label, value, help=help_text)

st.subheader("各级别合格率")
st.plotly_chart(charts.bar(view.by_level, "level", "pass_rate", title="各级别合格率", x_title="级别", y_title="合格率",
                           percent=True), key="scores_level_chart")
st.caption(view.rules)
st.dataframe(view.by_level_table, hide_index=True, key="scores_level_table")

BREAKDOWNS = [  # tab, key, frame and table of the view, x column, chart title, x title, expander title, horizontal
    ("按省份", "province", view.by_province, view.by_province_table, "province", "各省份合格率（院校所在省份）", "省份",
     "各省份合格率、报名与实考人数", False),
    ("按考点", "site", view.by_site, view.by_site_table, "label", f"各考点合格率（实考人数最多的 {common.CHART_ROWS} 个）",
     "考点", "全部考点的合格率、报名与实考人数", True),
    ("按院校", "school", view.by_school, view.by_school_table, "label", f"各院校合格率（实考人数最多的 {common.CHART_ROWS} 所）",
     "院校", "全部院校的合格率、报名与实考人数", True),
]
for tab, (_, key, frame, table, x, title, x_title, more, horizontal) in zip(st.tabs([b[0] for b in BREAKDOWNS]), BREAKDOWNS):
    with tab:
        st.plotly_chart(charts.bar(frame, x, "pass_rate", title=title, x_title=x_title, y_title="合格率", color="level",
                                   percent=True, horizontal=horizontal, **({"height": _height(frame)} if horizontal else {})),
                        key=f"scores_{key}_chart")
        st.caption(view.rules + "。报名与实考人数见表。")
        with st.expander(more):
            st.dataframe(table, hide_index=True, key=f"scores_{key}_table")

st.subheader("成绩分布")
for tab, (part, label) in zip(st.tabs(list(view.parts.values())), view.parts.items()):
    with tab:
        st.plotly_chart(charts.histogram(view.histogram, {part: label}, f"{label}分布（每 5 分一档，虚线为 60 分）"),
                        key=f"scores_histogram_{part}")
with st.expander("各分数段人数"):
    st.dataframe(view.histogram_table, hide_index=True, key="scores_histogram_table")

st.subheader("理论与实操")
st.plotly_chart(charts.heatmap(view.heatmap, "理论成绩与实操成绩（每格 10 分）"), key="scores_heatmap")
with st.expander("各分数格人数"):
    st.dataframe(view.heatmap_table, hide_index=True, key="scores_heatmap_table")

st.subheader("成绩表")
unmasked = st.checkbox("显示完整姓名和身份证号", key="scores_table_unmasked", on_change=_audit_unmasked,
                       args=(f.describe(),), help="勾选会记入审计日志；下载文件同样按此设置")
masked = not unmasked
table = page.view(scores.score_table, f, masked, scores.TABLE_ROWS)
shown = f"页面显示前 {len(table):,} 行，" if view.table_rows > len(table) else ""
st.caption(f"共 {view.table_rows:,} 人；{shown}下载文件包含全部 {view.table_rows:,} 行。"
           + ("姓名和身份证号已脱敏。" if masked else "显示完整姓名和身份证号。"))
st.dataframe(table, hide_index=True, key="scores_table")
xlsx_col, csv_col = st.columns(2)
bound = common.runner(page.con, web.scope())
web.file_job(xlsx_col, f".xlsx（{view.table_rows:,} 行）", scores.score_xlsx_job(bound, f, masked),
             scores.score_download_name(f, "xlsx"), exports.MIME["xlsx"], "scores_table_download_xlsx",
             {"filters": f.describe(), "masked": masked, "format": "xlsx"}, unmasked=not masked)
web.download_button(csv_col, f"下载 .csv（{view.table_rows:,} 行）", scores.score_file(bound, f, masked, "csv"),
                    scores.score_download_name(f, "csv"), exports.MIME["csv"], "scores_table_download_csv",
                    {"filters": f.describe(), "masked": masked, "format": "csv"}, unmasked=not masked)
