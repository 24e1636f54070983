"""Streamlit glue, the only place besides app.py and app_pages/ that imports streamlit.

This module holds what every page shares: the cached connection, the signed-in identity and its
session (login, timeouts, logout, single sign-on), scoped cached queries, deferred downloads checked
and audited when clicked, and short error messages. Beside it: `filters` (the shared sidebar filters,
mirrored in the URL), `navigation` (which pages each role has) and `charts` (plotly builders, frame in,
figure out). It may import everything below it (config, store, domain, importers, views); nothing
imports it but app.py and the page scripts.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import logging
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from examdash import config
from examdash.domain import auth, rules, sessions
from examdash.domain.auth import User
from examdash.store import db, maintenance, queries
from examdash.web import clients, cookies

USER_KEY = "_examdash_user"
SEEN_KEY = "_examdash_last_seen"
METHOD_KEY = "_examdash_login_method"  # "password" or "oidc"
GUARD_KEY = "_examdash_guard"
WEB_SESSION_KEY = "_examdash_web_session"  # web_sessions.session_id of this tab, when it has one
STAFF = rules.STAFF_ROLES
_LOG = logging.getLogger("examdash")


@dataclass
class SessionGuard:
    """The signed-in session as code that runs outside the script sees it (a deferred download, built
    on another thread when clicked): who, when the session last ran a page, and whether it has ended."""

    user: User
    last_seen: float
    ended: str | None = None
    session_id: int | None = None  # the browser's web session, when it has one


@st.cache_resource(show_spinner=False)
def _connection(path: str):
    con = db.connect(path)
    from examdash.store import sweep  # what killed processes left (temp folders, orphaned files, originals)

    sweep.at_start(con)
    maintenance.start(con)  # the lake's old snapshots expire on their own (one process at a time, store/maintenance.py)
    return con


_CONNECTIONS: dict[str, object] = {}


def con():
    """One DuckDB connection per process (every query runs on its own cursor). Kept in a dict in front of
    st.cache_resource, whose lookup (hashing its arguments, reading the function's signature) took a
    quarter of a candidate lookup's time."""
    path = str(config.db_path())
    found = _CONNECTIONS.get(path)
    if found is None:
        found = _CONNECTIONS[path] = _connection(path)
    return found


def open_connection():
    """The process's connection if it is open already, else None (code on the event loop must not open it)."""
    return _CONNECTIONS.get(str(config.db_path()))


def forget_connections() -> None:
    """Open a new connection at the next con() (tests that move a store under the same path)."""
    _CONNECTIONS.clear()
    _connection.clear()


# --- the page run: one read of the store's state, one identity check -------------------------------------
#
# app.py wraps every page run in begin_run()/end_run(). begin_run reads run_state once (data version,
# pinned day, accounts fingerprint, the web session); current_user, scope, query, today and data_version
# then answer from it for the rest of the run instead of asking the store each time. Code that runs
# outside a wrapped run (a page script run on its own in tests, a fragment rerun) reads afresh.

_RUN = threading.local()


@dataclass
class _Run:
    state: db.RunState
    bumps: int  # db.bumps() when the state was read: a write in this process since then re-reads the version
    checked: bool = False
    user: User | None = None


def _read_state() -> db.RunState:
    return db.run_state(con(), st.session_state.get(WEB_SESSION_KEY))


def _run() -> _Run | None:
    return getattr(_RUN, "run", None)


def _state() -> db.RunState:
    run = _run()
    return run.state if run is not None else _read_state()


def begin_run() -> None:
    bumps = db.bumps()
    _RUN.run = _Run(_read_state(), bumps)


def end_run() -> None:
    _RUN.run = None


def data_version() -> int:
    run = _run()
    if run is None:
        return db.data_version(con())
    if run.bumps != db.bumps():  # an import or a decision of this process since the run began
        run.bumps = db.bumps()
        run.state = dataclasses.replace(run.state, data_version=db.data_version(con()))
    return run.state.data_version


def today() -> dt.date:
    run = _run()
    return run.state.today() if run is not None else db.today(con())


def now() -> dt.datetime:
    """The app's clock (moved whole to the pinned day when one is pinned)."""
    return db.now(con())


_ACCOUNTS: dict[tuple, dict[str, User]] = {}
_ACCOUNTS_LOCK = threading.Lock()


def _accounts(state: db.RunState) -> dict[str, User]:
    """Every enabled account, read once per accounts fingerprint and data version (school names)."""
    key = (str(config.db_path()), state.accounts, state.data_version)
    with _ACCOUNTS_LOCK:
        hit = _ACCOUNTS.get(key)
    if hit is None:
        hit = auth.accounts(con())
        with _ACCOUNTS_LOCK:
            _ACCOUNTS.clear()
            _ACCOUNTS[key] = hit
    return hit


def _problem(fresh: User | None, user: User) -> str | None:
    if fresh is None:
        return "账号已停用"
    if fresh.role != user.role or fresh.school_code != user.school_code or fresh.site_code != user.site_code:
        return "账号权限已变更"
    if fresh.epoch != user.epoch:
        return "账号密码已重置"
    return None


def account_problem(connection, user: User) -> str | None:
    """Why a signed-in identity no longer holds: the account is gone or disabled, its role, school or site
    changed, or its password was reset (session_epoch moved on). None while it holds."""
    return _problem(auth.reload_user(connection, user.username), user)


def _idle(last_seen: float) -> bool:
    return time.monotonic() - last_seen > config.session_timeout_minutes() * 60


def session_token() -> str | None:
    """The browser's session token, from the cookie the sign-in page set and serve.py's middleware passed
    on (None without one: AppTest, app.py served on its own)."""
    try:
        return cookies.token_from_header("; ".join(f"{k}={v}" for k, v in st.context.cookies.to_dict().items()))
    except Exception:  # no request context (a bare script run)
        return None


def _web_session_problem(state: db.RunState) -> str | None:
    if state.session_user is None:
        return "会话已结束"
    if state.session_revoked_at is not None:
        return state.session_revoked_reason or "已退出登录"
    if state.session_expires_at is not None and state.session_expires_at <= _clock(state):
        return "会话已超时"
    return None


def _clock(state: db.RunState) -> dt.datetime:
    real = db.now(None)
    return dt.datetime.combine(state.today(), real.time())


def _restore(state: db.RunState) -> User | None:
    """A page run without a signed-in user: the browser's open web session signs it in, if any."""
    token = session_token()
    if token is None:
        return None
    found = sessions.find(con(), token)
    if found is None:
        return None
    session_id, username, epoch, method = found
    fresh = _accounts(state).get(username)
    if fresh is None or fresh.epoch != epoch:
        sessions.revoke(con(), session_id, "账号已停用" if fresh is None else "账号密码已重置")
        return None
    _remember(fresh, method, session_id)
    return fresh


def _check() -> User | None:
    run = _run()
    state = run.state if run is not None else _read_state()
    user = st.session_state.get(USER_KEY)
    if user is None:
        return _restore(state)
    session_id = st.session_state.get(WEB_SESSION_KEY)
    if session_id is not None:
        # A browser's session spans its tabs: the record's expiry decides, not this tab's idleness.
        problem = _web_session_problem(state)
        if problem:
            logout(reason=f"{problem}，请重新登录")
            return None
    elif _idle(st.session_state.get(SEEN_KEY, 0.0)):
        logout(reason="会话已超时，请重新登录")
        return None
    problem = _problem(_accounts(state).get(user.username), user)
    if problem:
        logout(reason=f"{problem}，请重新登录")
        return None
    if session_id is not None:
        sessions.touch(con(), session_id, state.session_last_seen, _clock(state))
    now = time.monotonic()
    st.session_state[SEEN_KEY] = now
    guard = st.session_state.get(GUARD_KEY)
    if guard is None or guard.user != user:
        guard = st.session_state[GUARD_KEY] = SessionGuard(user, now, session_id=session_id)
    guard.last_seen = now
    return user


def current_user() -> User | None:
    """The signed-in identity, checked once per page run: the session (this tab's, or the browser's
    web session) has not ended or idled out, and the account still holds. None when signed out."""
    run = _run()
    if run is not None and run.checked:
        return run.user
    user = _check()
    if run is not None:
        run.checked, run.user = True, user
    return user


def _remember(user: User, method: str, session_id: int | None) -> None:
    st.session_state[USER_KEY] = user
    st.session_state[SEEN_KEY] = time.monotonic()
    st.session_state[METHOD_KEY] = method
    if session_id is not None:
        st.session_state[WEB_SESSION_KEY] = session_id
    st.session_state[GUARD_KEY] = SessionGuard(user, st.session_state[SEEN_KEY], session_id=session_id)


def sign_in(user: User, method: str = "password") -> None:
    """After a login inside the app (its own form, or single sign-on): this tab's session only. A login
    that lasts across reloads and tabs is made on the sign-in page (web/signin_route.py), which issues a
    new session cookie on its own response: the app never binds a login to the token a browser brought,
    which could have been planted."""
    _remember(user, method, None)


def signin_link() -> str | None:
    """The sign-in page's address coming back to this page, when the app is served by serve.py (its
    middleware marks the websocket); None otherwise (AppTest, app.py run on its own: the in-app form)."""
    try:
        path = st.context.headers.get(cookies.SERVED_HEADER.decode())
        here = urllib.parse.urlsplit(st.context.url or "/")
    except Exception:  # no request context
        return None
    if not path:
        return None
    target = here.path + (f"?{here.query}" if here.query else "")
    return f"{path}?" + urllib.parse.urlencode({"next": target})


def logout(reason: str | None = None) -> None:
    """End the session (the button, an idle timeout, a changed account): this tab's, and the browser's
    web session, so its other tabs are signed out at their next page run. A single sign-on session is
    ended at the identity provider's cookie too, or the login page would sign the user straight back in."""
    user = st.session_state.pop(USER_KEY, None)
    guard = st.session_state.get(GUARD_KEY)
    if guard is not None:
        guard.ended = reason or "已退出登录"
    session_id = st.session_state.get(WEB_SESSION_KEY)
    if session_id is not None:
        sessions.revoke(con(), session_id, reason or "已退出登录")
    if user is not None:
        db.event(con(), user.username, "logout", user.username, {"reason": reason} if reason else None)
    if st.session_state.get(METHOD_KEY) == "oidc":
        st.logout()
    for key in list(st.session_state.keys()):
        if key != "_examdash_notice":
            del st.session_state[key]
    if reason:
        st.session_state["_examdash_notice"] = reason
    run = _run()
    if run is not None:
        run.checked, run.user = True, None


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


VIEW_ENTRIES = 256  # view models kept per process (the oldest used goes first)
_VIEWS: collections.OrderedDict = collections.OrderedDict()
_VIEWS_LOCK = threading.Lock()
_BUILDING: dict[tuple, threading.Lock] = {}


def cached_view(fn: Callable, run: Callable[..., pd.DataFrame], *args):
    """fn(run, *args), computed once per (view, arguments, scope, data version, day) in this process and
    shared by every session with that scope. The arguments must be hashable (the user, filters, codes).
    The object returned is shared: pages render it and never change it. A view that fails is not kept."""
    key = (str(config.db_path()), fn.__module__, fn.__qualname__, args, scope().cache_key, data_version(), today())
    with _VIEWS_LOCK:
        if key in _VIEWS:
            _VIEWS.move_to_end(key)
            return _VIEWS[key]
        building = _BUILDING.setdefault(key, threading.Lock())
    # One build per key at a time: after an import, twenty sessions asking for the same view wait for
    # the first one's build instead of each building it.
    with building:
        with _VIEWS_LOCK:
            if key in _VIEWS:
                return _VIEWS[key]
        try:
            value = fn(run, *args)
        finally:
            with _VIEWS_LOCK:
                _BUILDING.pop(key, None)
        with _VIEWS_LOCK:
            _VIEWS[key] = value
            while len(_VIEWS) > VIEW_ENTRIES:
                _VIEWS.popitem(last=False)
    return value


@dataclass(frozen=True)
class Page:
    """What a page hands its view: who is signed in, a query runner scoped to them (cached per data
    version), the app's day, and the connection for the page's actions."""

    user: User
    run: Callable[..., pd.DataFrame]
    today: dt.date
    con: object

    def view(self, fn: Callable, *args):
        """A view model (fn(page.run, *args)), cached per arguments, scope, data version and day."""
        return cached_view(fn, self.run, *args)


def page(*roles: str) -> Page:
    """Stop the page unless the identity has one of the roles; else what its view needs."""
    user = require(*roles)
    return Page(user, query, today(), con())


def money_table(df: pd.DataFrame, key: str) -> None:
    """A table whose yuan columns (named …（元）) show two decimals (the values are exact Decimals)."""
    config = {c: st.column_config.NumberColumn(c, format="%.2f") for c in df.columns if c.endswith("（元）")}
    st.dataframe(df, hide_index=True, column_config=config, key=key)


STYLE = Path(__file__).with_name("style.css")


def apply_style() -> None:
    """The app's few style rules (metric cards never cut their figures), once per page run."""
    st.html(STYLE)


def progress_panel(items, key: str) -> None:
    """Each batch's stage today, its next key date and the notice's to-dos (views/progress.py)."""
    for i, item in enumerate(items):
        with st.container(border=True, key=f"{key}_{i}"):
            st.markdown(item.headline)
            if item.todos:
                st.markdown("\n".join(f"- {t}" for t in item.todos))
            else:
                st.caption("当前阶段没有需要您办理的事项。")


def scope():
    user = current_user()
    if user is None:
        raise PermissionError("未登录")
    return auth.scope_for(user)


@st.cache_data(show_spinner=False, max_entries=2000, ttl=3600)
def _cached_query(name: str, params: tuple, scope_key: tuple, version: int) -> pd.DataFrame:
    role, school_code, site_code = scope_key
    return queries.run(con(), name, dict(params), queries.Scope(role=role, school_code=school_code, site_code=site_code),
                       version)


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
    """A request-event writer (the application database: no lake snapshot) bound to the signed-in user and
    the connection, taken now: code that runs outside the script (a deferred download) has no session to
    ask later."""
    user, connection = current_user(), con()
    actor = user.username if user else "anonymous"

    def write(action: str, target: str | None = None, detail: dict | None = None) -> None:
        db.event(connection, actor, action, target, detail)

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
    if session.session_id is not None:
        problem = _web_session_problem(db.run_state(connection, session.session_id))
        if problem:
            return f"会话已结束（{problem}）"
    elif _idle(session.last_seen):
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
            db.event(connection, session.user.username, "download_refused", file_name, {"reason": problem, **(detail or {})})
            raise PermissionError(problem)
        data = build()
        served = dict(detail or {})
        if isinstance(data, tuple):  # (bytes, what was served: rows counted while building)
            data, more = data
            served.update(more)
        db.event(connection, session.user.username, "download", file_name, served or None)
        return data

    return run


def download_button(container, label: str, build: Callable[[], bytes | tuple[bytes, dict]], file_name: str, mime: str, key: str,
                    detail: dict | None = None, *, unmasked: bool = False, disabled: bool = False) -> None:
    """A download button whose file is built (and checked, and audited) only when clicked: the page
    carries no ready file URL. The click does not rerun the script (a rerun would hand the button a new
    file id while the old one is being fetched)."""
    container.download_button(label, deferred(build, file_name, detail, unmasked=unmasked), file_name=file_name,
                              mime=mime, key=key, on_click="ignore", disabled=disabled)


def download_buttons(files: dict, label: str, key: str, detail: dict | None = None, *, unmasked: bool = False) -> None:
    """A table's files side by side (ext -> (build, file name, MIME type), as exports.table_files gives
    them): one download_button each, labelled "<label> .<ext>", keyed "<key>_<ext>"."""
    for col, (ext, (build, name, mime)) in zip(st.columns(len(files)), files.items()):
        download_button(col, f"{label} .{ext}", build, name, mime, f"{key}_{ext}", detail, unmasked=unmasked)


JOBS_KEY = "_examdash_jobs"
JOB_POLL = 0.5  # seconds between looks at a running job


@dataclass
class Job:
    """Long work for one session run on a worker thread (an import's write, a large file): the page that
    started it goes on answering and shows its progress; the work cannot be cut short by a click
    elsewhere (a rerun stops a script run, not this thread)."""

    signature: tuple  # what the work is for: a job for another file, other filters or older data is not shown
    progress: float = 0.0
    text: str = "排队中"
    result: object = None
    error: str | None = None
    started: float = dataclasses.field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started


def _run_job(job: Job, work: Callable) -> None:
    def progress(fraction: float, text: str) -> None:
        job.progress, job.text = max(0.0, min(1.0, float(fraction))), text

    try:
        job.result = work(progress)
    except Exception as exc:  # shown to the user with an id; details in the server's log
        error_id = uuid.uuid4().hex[:10]
        _LOG.error("后台任务出错，错误编号 %s", error_id, exc_info=exc)
        job.error = f"{exc}（错误编号 {error_id}）" if isinstance(exc, (RuntimeError, ValueError)) else f"错误编号 {error_id}"
    finally:
        job.finished = time.monotonic()


def start_job(key: str, signature: tuple, work: Callable[[Callable[[float, str], None]], object]) -> Job:
    """Run work(progress) on a worker thread for this session, as job `key`. `work` must not use the
    session or Streamlit: give it the connection, the user and bound query runners."""
    if current_user() is None:
        raise PermissionError("未登录")
    job = st.session_state.setdefault(JOBS_KEY, {})[key] = Job(signature)
    threading.Thread(target=_run_job, args=(job, work), name=f"examdash-job-{key}", daemon=True).start()
    return job


def job(key: str, signature: tuple) -> Job | None:
    """This session's job `key`, if it is for `signature`."""
    found = st.session_state.get(JOBS_KEY, {}).get(key)
    return found if found is not None and found.signature == signature else None


def forget_job(key: str) -> None:
    st.session_state.get(JOBS_KEY, {}).pop(key, None)


def _job_progress(key: str) -> None:
    found = st.session_state.get(JOBS_KEY, {}).get(key)
    if found is None:
        return
    if found.done:
        st.rerun()  # the whole page, which then shows the outcome
    st.progress(found.progress, text=f"{found.text}（已用 {found.seconds:.0f} 秒）")


def job_progress(key: str) -> None:
    """The running job's progress, refreshed by itself every JOB_POLL seconds; when the job is done the
    page runs again and shows the outcome."""
    st.fragment(_job_progress, run_every=JOB_POLL)(key)


def file_job(container, label: str, build: Callable[[Callable[[float, str], None]], tuple[bytes, dict]], file_name: str,
             mime: str, key: str, detail: dict | None = None, *, unmasked: bool = False, disabled: bool = False) -> None:
    """A large file (a .zip of all statements, a whole-batch .xlsx) built in the background when asked
    for, then downloaded. `build(progress)` runs as a job (start_job) and should hand the heavy writing
    to a child process (views/offload.py), so neither this page nor other sessions wait on it. When done,
    the download button is checked and audited at the click like every download. Other filters or new
    data (another signature) offer a new build."""
    if current_user() is None:
        raise PermissionError("未登录")
    signature = (file_name, repr(sorted((detail or {}).items())), unmasked, data_version())
    found = job(key, signature)
    with container:
        if found is None:
            if not st.button(f"生成 {label}", key=f"{key}_start", disabled=disabled,
                             help="在后台生成，生成期间页面可照常使用；完成后出现下载按钮"):
                return
            start_job(key, signature, build)
            st.rerun()  # the page again, with the job's progress in place of the button
        if not found.done:
            job_progress(key)
            return
        if found.error:
            st.error(f"生成失败：{found.error}")
            if st.button("重新生成", key=f"{key}_retry"):
                forget_job(key)
                st.rerun()
            return
        data, more = found.result
        served = {**(detail or {}), **(more or {})}
        download_button(st, f"下载 {label}", lambda: (data, served), file_name, mime, key, None, unmasked=unmasked)
        st.caption(f"已生成（{len(data) / 1024 / 1024:.1f} MB，用时 {found.seconds:.1f} 秒）")


ROLE_LABELS = rules.ROLES
AuthError = auth.AuthError


def show_error(exc: BaseException) -> None:
    """An unexpected error: a short message with an id for the user, the details in the server's log."""
    error_id = uuid.uuid4().hex[:10]
    _LOG.error("错误编号 %s", error_id, exc_info=exc)
    st.error(f"页面出错了（错误编号 {error_id}）。请刷新页面重试；如果问题仍在，请把错误编号告诉管理员。")


def client_address() -> str | None:
    """The browser's address, for login throttling and request events (web/clients.py): the websocket's
    peer (None on this machine's loopback), or behind our reverse proxies the entry they added."""
    return clients.address(st.context.ip_address, st.context.headers.get("X-Forwarded-For"))


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
        db.event(con(), user.username, "login_oidc", email)
    return user
