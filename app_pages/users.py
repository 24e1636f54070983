"""用户: accounts and roles (admin only)."""

import streamlit as st

from examdash import web
from examdash.views import common, guidance, users

page = web.page("admin")
me = page.user
st.title("用户")
st.caption("账号保存在数据库中，密码以 argon2 加盐哈希保存；连续 5 次密码错误锁定 15 分钟。所有修改记入审计日志。")
hint = page.view(guidance.build, page.user.role, None, page.today, ("schools", "sites"))
if hint.text:
    st.info(f"{hint.text}学校账号须关联已导入的院校，考点账号须关联已导入的考点。")

st.dataframe(users.users_table(page.con), hide_index=True, key="users_table")

tab_add, tab_change = st.tabs(["新建账号", "停用 / 启用 / 重置密码"])
with tab_add:
    with st.form("users_add_form", clear_on_submit=True):
        c1, c2 = st.columns(2)
        username = c1.text_input("用户名", key="users_add_username", help="3-64 位字母、数字或 _ . @ -")
        display = c2.text_input("显示名", key="users_add_display")
        role = c1.selectbox("角色", list(web.ROLE_LABELS), format_func=web.ROLE_LABELS.get, key="users_add_role")
        schools = users.school_choices(page.run)
        school = c2.selectbox("院校（学校账号必填）", [""] + list(schools), format_func=lambda c: schools.get(c, "（无）"),
                              key="users_add_school")
        sites = common.site_choices(page.run)
        site = c1.selectbox("考点（考点账号必填）", [""] + list(sites), format_func=lambda c: sites.get(c, "（无）"),
                            key="users_add_site")
        email = c2.text_input("邮箱（单位账号登录时用）", key="users_add_email")
        password = c1.text_input("初始密码", type="password", key="users_add_password", help="至少 8 位，含字母和数字")
        if st.form_submit_button("创建", key="users_add_submit"):
            try:
                users.add_user(page.con, me, username, display, role, password, school or None, email or None, site or None)
            except web.AuthError as exc:
                st.error(str(exc))
            else:
                st.success(f"已创建账号 {username}")
with tab_change:
    names = users.users_table(page.con)["用户名"].tolist()
    target = st.selectbox("账号", names, key="users_change_target")
    c1, c2 = st.columns(2)
    if c1.button("停用", key="users_disable", disabled=target == me.username):
        users.set_active(page.con, me, target, False)
        st.success(f"账号 {target} 已停用")
    if c2.button("启用", key="users_enable"):
        users.set_active(page.con, me, target, True)
        st.success(f"账号 {target} 已启用")
    with st.form("users_reset_form", clear_on_submit=True):
        new_password = st.text_input("新密码", type="password", key="users_reset_password")
        if st.form_submit_button("重置密码", key="users_reset_submit"):
            try:
                users.reset_password(page.con, me, target, new_password)
            except web.AuthError as exc:
                st.error(str(exc))
            else:
                st.success(f"账号 {target} 的密码已重置，锁定已解除")
