"""What every page shares: the cached connection, the signed-in identity, scoped cached queries."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import pandas as pd
import streamlit as st

from examdash import auth, config, db, queries
from examdash.auth import User

USER_KEY = "_examdash_user"
SEEN_KEY = "_examdash_last_seen"
STAFF = ("admin", "staff")


@st.cache_resource(show_spinner=False)
def _connection(path: str):
    return db.connect(path)


def con():
    """One DuckDB connection per process (every query runs on its own cursor)."""
    return _connection(str(config.db_path()))


def data_version() -> int:
    return db.data_version(con())


def today() -> dt.date:
    return db.today(con())


def now() -> dt.datetime:
    """The app's clock (moved whole to the pinned day when one is pinned)."""
    return db.now(con())


def current_user() -> User | None:
    user = st.session_state.get(USER_KEY)
    if user is None:
        return None
    last = st.session_state.get(SEEN_KEY, 0.0)
    if time.monotonic() - last > config.session_timeout_minutes() * 60:
        logout(reason="会话已超时，请重新登录")
        return None
    st.session_state[SEEN_KEY] = time.monotonic()
    fresh = auth.reload_user(con(), user.username)
    if fresh is None or fresh.role != user.role or fresh.school_code != user.school_code:
        logout(reason="账号已停用或权限已变更，请重新登录")
        return None
    return user


def sign_in(user: User) -> None:
    st.session_state[USER_KEY] = user
    st.session_state[SEEN_KEY] = time.monotonic()


def logout(reason: str | None = None) -> None:
    user = st.session_state.pop(USER_KEY, None)
    if user is not None:
        with db.transaction(con()) as cur:
            db.audit(cur, user.username, "logout", user.username, {"reason": reason} if reason else None)
    for key in list(st.session_state.keys()):
        if key != "_examdash_notice":
            del st.session_state[key]
    if reason:
        st.session_state["_examdash_notice"] = reason


def require(*roles: str) -> User:
    """Stop the page unless the signed-in identity has one of the roles. Pages call this first."""
    user = current_user()
    if user is None:
        st.warning("请先登录。")
        st.stop()
    if roles and user.role not in roles:
        st.error("无权访问此页面：您的账号角色不能查看这里的数据。")
        st.stop()
    return user


def scope():
    user = current_user()
    if user is None:
        raise PermissionError("未登录")
    return auth.scope_for(user)


@st.cache_data(show_spinner=False, max_entries=2000, ttl=3600)
def _cached_query(name: str, params: tuple, scope_key: tuple, version: int) -> pd.DataFrame:
    role, school_code = scope_key
    return queries.run(con(), name, dict(params), queries.Scope(role=role, school_code=school_code))


def query(name: str, **params) -> pd.DataFrame:
    """A named query for the signed-in identity; cached by name, parameters, scope and data version."""
    sc = scope()
    items = tuple(sorted((k, v) for k, v in params.items()))
    return _cached_query(name, items, sc.cache_key, data_version()).copy()


def query_live(name: str, **params) -> pd.DataFrame:
    """Uncached, for data that changes without an import (the audit log)."""
    return queries.run(con(), name, params, scope())


def auditor() -> Callable[..., None]:
    """An audit writer bound to the signed-in user and the connection, taken now: code that runs
    outside the script (a deferred download) has no session to ask later."""
    user, connection = current_user(), con()
    actor = user.username if user else "anonymous"

    def write(action: str, target: str | None = None, detail: dict | None = None) -> None:
        with db.transaction(connection) as cur:
            db.audit(cur, actor, action, target, detail)

    return write


def audit(action: str, target: str | None = None, detail: dict | None = None) -> None:
    auditor()(action, target, detail)


ROLE_LABELS = auth.ROLES
AuthError = auth.AuthError


def authenticate(username: str, password: str) -> User:
    return auth.authenticate(con(), username, password)


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def oidc_user() -> User | None:
    """The account whose e-mail the identity provider vouched for, if any."""
    info = getattr(st, "user", None)
    if info is None or not getattr(info, "is_logged_in", False):
        return None
    email = info.get("email")
    if not email:
        return None
    user = auth.user_by_email(con(), email)
    if user is not None:
        with db.transaction(con()) as cur:
            db.audit(cur, user.username, "login_oidc", email)
    return user
