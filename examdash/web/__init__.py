"""Streamlit glue, the only place besides app.py and app_pages/ that imports streamlit.

This module holds what every page shares: the cached connection, the signed-in identity and its
session (login, timeouts, logout, single sign-on), scoped cached queries, deferred downloads checked
and audited when clicked, and short error messages. Beside it: `filters` (the shared sidebar filters,
mirrored in the URL), `navigation` (which pages each role has) and `charts` (plotly builders, frame in,
figure out). It may import everything below it (config, store, domain, importers, views); nothing
imports it but app.py and the page scripts.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from examdash import config
from examdash.domain import auth, rules
from examdash.domain.auth import User
from examdash.store import db, queries

USER_KEY = "_examdash_user"
SEEN_KEY = "_examdash_last_seen"
METHOD_KEY = "_examdash_login_method"  # "password" or "oidc"
GUARD_KEY = "_examdash_guard"
STAFF = rules.STAFF_ROLES
_LOG = logging.getLogger("examdash")


@dataclass
class SessionGuard:
    """The signed-in session as code that runs outside the script sees it (a deferred download, built
    on another thread when clicked): who, when the session last ran a page, and whether it has ended."""

    user: User
    last_seen: float
    ended: str | None = None


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


def account_problem(connection, user: User) -> str | None:
    """Why a signed-in identity no longer holds: the account is gone or disabled, its role or school
    changed, or its password was reset (session_epoch moved on). None while it holds."""
    fresh = auth.reload_user(connection, user.username)
    if fresh is None:
        return "账号已停用"
    if fresh.role != user.role or fresh.school_code != user.school_code:
        return "账号权限已变更"
    if fresh.epoch != user.epoch:
        return "账号密码已重置"
    return None


def _idle(last_seen: float) -> bool:
    return time.monotonic() - last_seen > config.session_timeout_minutes() * 60


def current_user() -> User | None:
    user = st.session_state.get(USER_KEY)
    if user is None:
        return None
    if _idle(st.session_state.get(SEEN_KEY, 0.0)):
        logout(reason="会话已超时，请重新登录")
        return None
    problem = account_problem(con(), user)
    if problem:
        logout(reason=f"{problem}，请重新登录")
        return None
    now = time.monotonic()
    st.session_state[SEEN_KEY] = now
    guard = st.session_state.get(GUARD_KEY)
    if guard is None or guard.user != user:
        guard = st.session_state[GUARD_KEY] = SessionGuard(user, now)
    guard.last_seen = now
    return user


def sign_in(user: User, method: str = "password") -> None:
    st.session_state[USER_KEY] = user
    st.session_state[SEEN_KEY] = time.monotonic()
    st.session_state[METHOD_KEY] = method
    st.session_state[GUARD_KEY] = SessionGuard(user, st.session_state[SEEN_KEY])


def logout(reason: str | None = None) -> None:
    """End the session (the button, an idle timeout, a changed account). A single sign-on session is
    ended at the identity provider's cookie too, or the login page would sign the user straight back in."""
    user = st.session_state.pop(USER_KEY, None)
    guard = st.session_state.get(GUARD_KEY)
    if guard is not None:
        guard.ended = reason or "已退出登录"
    if user is not None:
        with db.transaction(con()) as cur:
            db.audit(cur, user.username, "logout", user.username, {"reason": reason} if reason else None)
    if st.session_state.get(METHOD_KEY) == "oidc":
        st.logout()
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


@dataclass(frozen=True)
class Page:
    """What a page hands its view: who is signed in, a query runner scoped to them (cached per data
    version), the app's day, and the connection for the page's actions."""

    user: User
    run: Callable[..., pd.DataFrame]
    today: dt.date
    con: object


def page(*roles: str) -> Page:
    """Stop the page unless the identity has one of the roles; else what its view needs."""
    user = require(*roles)
    return Page(user, query, today(), con())


def money_table(df: pd.DataFrame, key: str) -> None:
    """A table whose yuan columns (named …（元）) show two decimals (the values are exact Decimals)."""
    config = {c: st.column_config.NumberColumn(c, format="%.2f") for c in df.columns if c.endswith("（元）")}
    st.dataframe(df, hide_index=True, column_config=config, key=key)


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


def bound_query() -> Callable[..., pd.DataFrame]:
    """web.query for code that runs outside the script (a deferred download): the signed-in scope and
    the connection are taken now, the data version when it runs."""
    scope_key, connection = scope().cache_key, con()

    def run(name: str, **params) -> pd.DataFrame:
        items = tuple(sorted((k, v) for k, v in params.items()))
        return _cached_query(name, items, scope_key, db.data_version(connection)).copy()

    return run


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


def guard() -> SessionGuard | None:
    """This session's guard (current_user keeps it up to date on every page run)."""
    return st.session_state.get(GUARD_KEY)


def session_problem(connection, session: SessionGuard, unmasked: bool = False) -> str | None:
    """Why a deferred download of this session must not be built now, or None."""
    if session.ended:
        return f"会话已结束（{session.ended}）"
    if _idle(session.last_seen):
        return "会话已超时"
    problem = account_problem(connection, session.user)
    if problem:
        return problem
    if unmasked and session.user.role not in STAFF:
        return "无权下载完整姓名和身份证号"
    return None


def deferred(build: Callable[[], bytes | tuple[bytes, dict]], file_name: str, detail: dict | None = None, *,
             unmasked: bool = False) -> Callable[[], bytes]:
    """A download's bytes built only when the user clicks, for st.download_button.

    Streamlit runs the callable on another thread, outside any script run, and serves what it returns
    to whoever holds the file's URL. So when it runs it checks the session first (not ended, not idle
    past the timeout, the account still enabled with the same role, school and password; for a file with
    full names and ID numbers, still staff), refuses otherwise (the click gets no file) and audits either
    way: `download` with `detail`, or `download_refused` with the reason. `build` must not use the
    session either: give it what it needs (a bound_query, frames already on the page); it may return
    (bytes, more detail) to audit what it counted while building."""
    session, connection = guard(), con()
    if session is None:
        raise PermissionError("未登录")

    def run() -> bytes:
        problem = session_problem(connection, session, unmasked)
        if problem:
            with db.transaction(connection) as cur:
                db.audit(cur, session.user.username, "download_refused", file_name, {"reason": problem, **(detail or {})})
            raise PermissionError(problem)
        data = build()
        served = dict(detail or {})
        if isinstance(data, tuple):  # (bytes, what was served: rows counted while building)
            data, more = data
            served.update(more)
        with db.transaction(connection) as cur:
            db.audit(cur, session.user.username, "download", file_name, served or None)
        return data

    return run


def download_button(container, label: str, build: Callable[[], bytes | tuple[bytes, dict]], file_name: str, mime: str, key: str,
                    detail: dict | None = None, *, unmasked: bool = False, disabled: bool = False) -> None:
    """A download button whose file is built (and checked, and audited) only when clicked: the page
    carries no ready file URL. The click does not rerun the script (a rerun would hand the button a new
    file id while the old one is being fetched)."""
    container.download_button(label, deferred(build, file_name, detail, unmasked=unmasked), file_name=file_name,
                              mime=mime, key=key, on_click="ignore", disabled=disabled)


ROLE_LABELS = rules.ROLES
AuthError = auth.AuthError


def show_error(exc: BaseException) -> None:
    """An unexpected error: a short message with an id for the user, the details in the server's log."""
    error_id = uuid.uuid4().hex[:10]
    _LOG.error("错误编号 %s", error_id, exc_info=exc)
    st.error(f"页面出错了（错误编号 {error_id}）。请刷新页面重试；如果问题仍在，请把错误编号告诉管理员。")


def client_address() -> str | None:
    """The browser's address, for login throttling. Behind the reverse proxy (EXAMDASH_TRUST_PROXY=1)
    it is the last X-Forwarded-For entry, the one the proxy itself added; otherwise the peer address
    (None on this machine's loopback)."""
    if config.trust_proxy():
        forwarded = st.context.headers.get("X-Forwarded-For")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return st.context.ip_address


def authenticate(username: str, password: str) -> User:
    return auth.authenticate(con(), username, password, client=client_address())


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
    if info.get("email_verified") not in (True, "true", "True"):
        raise AuthError("单位账号的邮箱未经身份提供方验证，不能用于登录；请联系管理员")
    user = auth.user_by_email(con(), email)
    if user is not None:
        with db.transaction(con()) as cur:
            db.audit(cur, user.username, "login_oidc", email)
    return user
