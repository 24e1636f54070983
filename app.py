"""Router: page config, login, and the menu built from the signed-in account's role."""

import streamlit as st

from examdash import web
from examdash.web import navigation

st.set_page_config(page_title="1+X 数字营销技术应用 考务看板", page_icon="📊", layout="wide")
web.apply_style()


def login_page() -> None:
    st.title("1+X 数字营销技术应用 考务看板")
    notice = st.session_state.pop("_examdash_notice", None)
    if notice:
        st.info(notice)
    oidc = web.oidc_configured()
    if oidc:
        try:
            user = web.oidc_user()
            refusal = "您的单位账号邮箱没有对应的看板账号，请联系管理员。"
        except web.AuthError as exc:
            user, refusal = None, str(exc)
        if user is not None:
            web.sign_in(user, method="oidc")
            st.rerun()
        if getattr(st.user, "is_logged_in", False):
            st.error(refusal)
            st.button("退出单位账号", on_click=st.logout, key="login_oidc_logout")
        else:
            st.button("使用单位账号登录（OIDC）", on_click=st.login, key="login_oidc")
        st.caption("或使用看板账号登录：")
    link = web.signin_link()
    if link is not None:
        # Served by serve.py: the login is the sign-in page's, which sets the session cookie on its own
        # response (a login here could not, and would have to trust the token the browser brought).
        st.markdown(f'<a href="{link}" target="_self">前往登录页</a>', unsafe_allow_html=True)
        return
    with st.form("login_form"):
        username = st.text_input("用户名", key="login_username")
        password = st.text_input("密码", type="password", key="login_password")
        submitted = st.form_submit_button("登录", key="login_submit")
    if submitted:
        try:
            user = web.authenticate(username, password)
        except web.AuthError as exc:
            st.error(str(exc))
        else:
            web.sign_in(user)
            st.rerun()


# One read of the store's state and one identity check per page run (web.begin_run); everything the
# page asks of web (user, scope, data version, day) answers from it.
web.begin_run()
try:
    user = web.current_user()
    if user is None:
        # The login form answers at every page's address: a linked view (or an expired session) shows
        # the login, and after it the same address opens the page the user asked for.
        # The menu of the signed-out app: the login, and a link to the candidates' own lookup (考生成绩查询),
        # a plain HTTP page of serve.py (no Streamlit session per candidate).
        login = st.Page(login_page, title="登录", url_path="login", default=True)
        nav = st.navigation(
            [login] + [st.Page(login_page, title="登录", url_path=p.url) for p in navigation.PAGES],
            position="hidden",
        )
        with st.sidebar:
            st.page_link(login, label="登录", icon="🔑")
            st.markdown(f"🔎 [{navigation.LOOKUP_TITLE}]({navigation.LOOKUP_URL})")
    else:
        pages = [
            st.Page(p.path, title=p.title, url_path=p.url, default=i == 0)
            for i, p in enumerate(navigation.pages_for(user.role))
        ]
        nav = st.navigation(pages)
        with st.sidebar:
            place = user.school_name or getattr(user, "site_name", None)
            st.caption(f"{user.display_name}（{web.ROLE_LABELS[user.role]}）" + (f" · {place}" if place else ""))
            if st.button("退出登录", key="app_logout"):
                web.logout()
                st.rerun()
    try:
        nav.run()
    except Exception as exc:  # Streamlit's stop and rerun are BaseExceptions and pass through
        web.show_error(exc)
finally:
    web.end_run()
