"""导入: upload exports, see how they were read and what is wrong, then confirm to write (admin only)."""

import streamlit as st

from examdash import web
from examdash.views import exports, guidance, imports

page = web.page("admin")
st.title("导入")
st.caption("支持 .xlsx、.xls 与 .csv（UTF-8、带 BOM 的 UTF-8、GB18030）。先校验并预览，错误会阻止导入，警告可确认后导入；"
           "每个文件在一个事务中写入，重复导入同一内容不会改变数据。")

refusal = imports.demo_store_refusal(page.con)
if refusal:
    st.error(refusal)
    st.subheader("导入记录")
    st.dataframe(imports.history(web.query_live), hide_index=True, key="imports_history")
    st.stop()
hint = page.view(guidance.next_import, page.user.role, page.today)
if hint.text:
    st.info(hint.text)

c1, c2 = st.columns(2)
kind = c1.selectbox("文件类型", list(imports.KIND_LABELS), format_func=imports.KIND_LABELS.get, key="imports_kind")
batches = web.query("batches")["batch_code"].tolist()
batch = c2.selectbox("考试批次（文件没有「考试批次」列时使用）", ["（按文件）", *batches], key="imports_batch")
batch = None if batch == "（按文件）" else batch
files = st.file_uploader("选择文件（可多选）", type=["xlsx", "xls", "csv"], accept_multiple_files=True, key="imports_files")

for i, f in enumerate(files or []):
    upload = imports.Upload(f.name, f.getvalue())
    st.subheader(f.name)
    refusal = imports.too_large(upload)
    if refusal:
        st.error(refusal)
        continue
    bar = st.progress(0.0, text="校验中")
    memo, version = st.session_state.setdefault("_imports_checked", {}), web.data_version()
    result = imports.check(page.con, page.user, memo, version, upload, kind, batch, lambda x, t: bar.progress(x, text=t))
    sheet = None
    if len(result.sheets_matching) > 1:
        # Several sheets fit the kind: the first was read; another one is checked when chosen.
        if st.session_state.get(f"imports_sheet_{i}") not in result.sheets_matching:
            st.session_state.pop(f"imports_sheet_{i}", None)  # left over from another file or kind
        sheet = st.selectbox("工作表（工作簿中有多张表符合）", result.sheets_matching, key=f"imports_sheet_{i}")
        if sheet != result.sheet:
            result = imports.check(page.con, page.user, memo, version, upload, kind, batch,
                                   lambda x, t: bar.progress(x, text=t), sheet)
    bar.empty()
    if result.header_row:
        where = f"工作表「{result.sheet}」" if result.sheet else f"编码 {result.encoding or 'Excel'}"
        st.caption(f"{where}；第 {result.header_row} 行识别为表头；共 {result.rows_total:,} 行")
    left, right = st.columns([1, 2])
    if result.mapping or result.unmapped:
        left.dataframe(imports.mapping(result), hide_index=True, key=f"imports_mapping_{i}")
    if result.preview is not None:
        right.dataframe(result.preview, hide_index=True, key=f"imports_preview_{i}")
    issues = imports.report(result)
    if len(issues):
        (st.error if result.errors else st.warning)(result.summary() if result.errors else f"{len(result.warnings)} 条警告，请检查后确认")
        st.dataframe(issues, hide_index=True, key=f"imports_issues_{i}")
        web.download_button(st, "下载校验报告 .csv", lambda issues=issues: exports.to_csv(issues),
                            exports.file_name("校验报告", f.name, "csv"), exports.MIME["csv"], f"imports_report_{i}",
                            {"rows": len(issues)})
    if result.errors:
        continue
    st.info(f"将新增 {result.added:,} 行，替换 {result.replaced:,} 行，{result.unchanged:,} 行与已有数据相同。")
    if result.impacts:
        (st.warning if result.needs_confirm else st.info)(
            "对已关联数据的影响：\n" + "\n".join(f"- {line}" for line in result.impacts))
    accepted = True
    if result.warnings:
        accepted = st.checkbox(f"我已检查以上 {len(result.warnings)} 条警告，仍然导入", key=f"imports_accept_{i}")
    confirmed = False
    if result.needs_confirm:
        confirmed = st.checkbox("我已核对上述对签到、成绩、到账或复核项的影响，确认导入", key=f"imports_links_{i}")
    # The write runs as a background job: the page shows its progress and answers meanwhile, and a click
    # elsewhere does not cut the import short.
    job_key, signature = f"imports_write_{i}", imports.signature(upload, kind, batch, sheet)
    running = web.job(job_key, signature)
    if running is None or running.done:
        if st.button("确认导入", key=f"imports_confirm_{i}", disabled=not accepted or result.needs_confirm and not confirmed,
                     type="primary"):
            web.start_job(job_key, signature, imports.write_job(page.con, page.user, upload, kind, batch, sheet, confirmed))
            st.rerun()  # the page again, with the job's progress in place of the button
    if running is not None and not running.done:
        web.job_progress(job_key)
    elif running is not None and running.error:
        st.error(f"导入失败：{running.error}")
    elif running is not None:
        done = running.result
        (st.success if done.written else st.warning if done.ok else st.error)(done.summary())
        for line in done.impacts if done.ok and not done.written else ():
            st.warning(line)

st.subheader("导入记录")
st.dataframe(imports.history(web.query_live), hide_index=True, key="imports_history")
