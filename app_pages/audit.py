"""审计日志: logins, failed logins, imports, downloads and every write (admin only)."""

import streamlit as st

from examdash import web
from examdash.views import audit, exports

page = web.page("admin")
st.title("审计日志")
c1, c2, c3 = st.columns(3)
actions = audit.actions(web.query_live)
action = c1.selectbox("操作", ["全部", *actions], key="audit_action", format_func=lambda a: audit.ACTION_LABELS.get(a, a))
actor = c2.text_input("操作人", key="audit_actor")
days = c3.number_input("最近天数", min_value=1, max_value=3650, value=30, key="audit_days")
log = audit.log(web.query_live, page.today, None if action == "全部" else action, actor.strip() or None, int(days))
st.caption(f"共 {len(log):,} 条（最多显示最近 5,000 条）")
st.dataframe(log, hide_index=True, key="audit_table")
web.download_button(st, "下载 .csv", lambda: exports.to_csv(log), exports.file_name("审计日志", f"最近{days}天", "csv"),
                    exports.MIME["csv"], "audit_download", {"rows": len(log)})
