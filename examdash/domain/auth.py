"""Accounts, password hashes, login throttling and the scope an identity may see."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from examdash.domain import ids, rules, sessions
from examdash.store import appdb, db
from examdash.store.queries import Scope

ROLES = rules.ROLES
MAX_FAILURES = 5  # per user name and client
CLIENT_MAX_FAILURES = 20  # per client, whatever the user names
LOCK_MINUTES = 15
MIN_PASSWORD = 8
MAX_PASSWORD = 256  # longer input is refused before it is hashed or written anywhere
USERNAME = re.compile(r"[A-Za-z0-9_.@-]{3,64}")
LOCAL = "local"  # the client key of this machine's loopback (or a reverse proxy on it that is not configured)
UNKNOWN_ACCOUNT = "（不存在的账号）"  # logged in place of a typed user name that names no account
UNPARSED = "unparsed"  # the one client key of every address that is not one (throttled like any address)
_hasher = PasswordHasher()  # argon2id, salted; about 50 ms a hash on this machine
# Verifying against this keeps a login for an unknown user as slow as one for a known user.
_DUMMY_HASH = _hasher.hash("examdash-dummy-password")


class AuthError(Exception):
    """Login or account problem; the message is for the user, in Chinese."""


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    school_code: str | None
    school_name: str | None = None
    epoch: int = 0  # users.session_epoch when loaded: a password reset or disabling bumps it, ending sessions
    site_code: str | None = None  # the exam site of a 考点 account
    site_name: str | None = None

    @property
    def scope(self) -> Scope:
        return scope_for(self)

    @property
    def is_staff(self) -> bool:
        return self.role in ("admin", "staff")


def scope_for(user: User) -> Scope:
    """The one place an identity becomes a data scope."""
    if user.role == "school":
        return Scope(role="school", school_code=user.school_code, username=user.username)
    if user.role == "site":
        return Scope(role="site", school_code=None, username=user.username, site_code=user.site_code)
    return Scope(role=user.role, school_code=None, username=user.username)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.lru_cache(maxsize=256)
def verifies(stored: str | None, password: str) -> bool:
    """Whether a stored hash is of this password (cached: the same hash and password always agree)."""
    try:
        return stored is not None and _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AuthError(f"密码至少 {MIN_PASSWORD} 位")
    if password.isdigit() or password.isalpha():
        raise AuthError("密码须同时包含字母和数字")


def _valid_username(username: str) -> str:
    username = (username or "").strip()
    if not USERNAME.fullmatch(username):
        raise AuthError("用户名须为 3-64 位字母、数字或 _ . @ -")
    if ids.looks_like_id(username):
        raise AuthError("用户名不能是身份证号：请换一个用户名（如姓名拼音或工号）")
    return username


def create_user(con, username, display_name, role, password, *, school_code=None, email=None, actor="cli",
                site_code=None) -> User:
    username = _valid_username(username)
    if role not in ROLES:
        raise AuthError(f"角色须为 {', '.join(ROLES)} 之一")
    if role == "school":
        if not school_code:
            raise AuthError("学校账号须指定院校代码")
    else:
        school_code = None
    if role == "site":
        if not site_code:
            raise AuthError("考点账号须指定考点代码")
    else:
        site_code = None
    check_password_rules(password)
    with db.transaction(con) as cur:
        if cur.execute("select 1 from users where username = $u", {"u": username}).fetchall():
            raise AuthError(f"用户 {username} 已存在")
        if school_code and not cur.execute("select 1 from schools where school_code = $c", {"c": school_code}).fetchall():
            raise AuthError(f"院校代码 {school_code} 不存在")
        if site_code and not cur.execute("select 1 from sites where site_code = $c", {"c": site_code}).fetchall():
            raise AuthError(f"考点代码 {site_code} 不存在")
        cur.execute(
            "insert into users (username, display_name, role, school_code, site_code, email, active, password_hash, "
            "created_at) values ($u, $d, $r, $s, $site, $e, true, $h, $t)",
            {"u": username, "d": display_name or username, "r": role, "s": school_code, "site": site_code, "e": email,
             "h": hash_password(password), "t": db.now(cur)},
        )
        db.audit(cur, actor, "user_add", username, {"role": role, "school_code": school_code,
                                                    **({"site_code": site_code} if site_code else {})})
    return User(username, display_name or username, role, school_code, site_code=site_code)


def set_active(con, username: str, active: bool, actor: str) -> None:
    with db.transaction(con) as cur:
        if not cur.execute("select 1 from users where username = $u", {"u": username}).fetchall():
            raise AuthError(f"用户 {username} 不存在")
        # Disabling ends the account's open sessions (and a later enabling does not bring them back).
        cur.execute("update users set active = $a, session_epoch = coalesce(session_epoch, 0) + (case when $a then 0 else 1 end) "
                    "where username = $u", {"a": active, "u": username})
        db.audit(cur, actor, "user_enable" if active else "user_disable", username)
    if not active:
        sessions.revoke_user(con, username, "账号已停用")


def reset_password(con, username: str, password: str, actor: str) -> None:
    check_password_rules(password)
    with db.transaction(con) as cur:
        if not cur.execute("select 1 from users where username = $u", {"u": username}).fetchall():
            raise AuthError(f"用户 {username} 不存在")
        # A reset ends every open session of the account: whoever held the old password is signed out.
        cur.execute("update users set password_hash = $h, session_epoch = coalesce(session_epoch, 0) + 1 "
                    "where username = $u", {"h": hash_password(password), "u": username})
        db.audit(cur, actor, "user_reset_password", username)
    sessions.revoke_user(con, username, "账号密码已重置")
    with db.app(con).transaction() as run:  # the new password is not locked out by the old one's failures
        prefix = _pair_key(username, "")  # an exact prefix: "_" in a user name is a LIKE wildcard
        run("delete from throttle where kind = 'login' and substr(key, 1, :n) = :p", {"n": len(prefix), "p": prefix})


def list_users(con):
    """Every account, with its last login (the newest login event of the application database)."""
    cur = con.cursor()
    try:
        df = cur.execute(
            "select u.username as 用户名, u.display_name as 姓名, u.role as 角色, u.school_code as 院校代码, "
            "s.school_name as 院校名称, u.site_code as 考点代码, t.site_name as 考点名称, u.email as 邮箱, "
            "u.active as 启用, u.created_at as 创建时间 from users u "
            "left join schools s using (school_code) left join sites t on t.site_code = u.site_code "
            "order by u.role, u.username"
        ).df()
    finally:
        cur.close()
    last = dict(db.app(con).rows("select actor, max(event_at) from request_events where action in ('login', 'login_oidc') "
                                 "group by actor"))
    df["最近登录"] = [appdb.parse(last.get(u)) for u in df["用户名"]]
    df["最近登录"] = df["最近登录"].astype("datetime64[us]")
    return df


def _load(cur, username: str) -> User | None:
    rows = cur.execute(
        "select u.username, u.display_name, u.role, u.school_code, s.school_name, coalesce(u.session_epoch, 0), "
        "u.site_code, t.site_name from users u left join schools s using (school_code) "
        "left join sites t on t.site_code = u.site_code where u.username = $u and u.active",
        {"u": username},
    ).fetchall()
    return User(*rows[0]) if rows else None


def client_key(client: str | None) -> str:
    """The throttling key of a client address (web/clients.py finds it): the address, normalised; `local`
    for this machine's loopback (None: Streamlit gives no address for loopback); anything else that is not
    an address is one shared key, throttled like an address, never `local`."""
    if client is None:
        return LOCAL
    text = client.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return UNPARSED
    return LOCAL if ip.is_loopback else ip.compressed


def authenticate(con, username: str, password: str, *, client: str | None = None,
                 now: dt.datetime | None = None) -> User:
    """Check a password. Throttled per user name and client (5 failures lock that pair for 15 minutes)
    and per client (20 failures over any names lock the client), so a stranger's failures cannot lock
    the owner out from their own client. Input that cannot be an account is refused before anything is
    written; every other attempt is a request event. Counts and events are in the application database:
    a login writes nothing to the lake."""
    username = (username or "").strip()
    if not username or not password:
        raise AuthError("请输入用户名和密码")
    if not USERNAME.fullmatch(username) or len(password) > MAX_PASSWORD:
        raise AuthError("用户名或密码错误")
    client = client_key(client)
    now = now or db.clock(con)
    app = db.app(con)
    found = db.rows(con, "select u.password_hash, u.username, u.display_name, u.role, u.school_code, s.school_name, "
                         "coalesce(u.session_epoch, 0), u.site_code, t.site_name, u.active from users u "
                         "left join schools s using (school_code) left join sites t on t.site_code = u.site_code "
                         "where u.username = $u", {"u": username})
    # What was typed is logged only when it names an account: a name that is none may be a password or an
    # ID number typed into the wrong field (the throttle counts it under a digest).
    shown = username if found else UNKNOWN_ACCOUNT
    active = [r for r in found if r[-1]]
    stored, user = (active[0][0], User(*active[0][1:-1])) if active else (None, None)
    pair_key = _pair_key(username, client)
    who, pair = _throttle_row(app, "login_client", client), _throttle_row(app, "login", pair_key)
    refusals = ((who, "login_refused_client_locked", "此处登录失败次数过多，已锁定"),
                (pair, "login_refused_locked", "该账号在此处因多次密码错误已锁定"))
    for row, action, text in refusals:
        minutes = _locked(row, now)
        if minutes:
            app.record(now, shown, action, shown, {"client": client})
            raise AuthError(f"{text}，请 {minutes} 分钟后再试")
    ok = False
    try:
        ok = _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        with app.transaction() as run:
            # read again inside the write: two failures at once from two processes both count
            failures = _count(_throttle_row(app, "login", pair_key, run), now)
            locked_until = now + dt.timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
            _set_throttle(run, "login", pair_key, failures, now, locked_until)
            client_lock = None
            if client != LOCAL:  # an unknown address may be everyone (a proxy not trusted): never lock it as one
                spread = _count(_throttle_row(app, "login_client", client, run), now)
                client_lock = now + dt.timedelta(minutes=LOCK_MINUTES) if spread >= CLIENT_MAX_FAILURES else None
                _set_throttle(run, "login_client", client, spread, now, client_lock)
            app.record(now, shown, "login_failed", shown,
                       {"failures": failures, "locked": locked_until is not None, "client": client,
                        "client_locked": client_lock is not None}, run=run)
        if locked_until:
            raise AuthError(f"用户名或密码错误；已连续错误 {failures} 次，该账号在此处锁定 {LOCK_MINUTES} 分钟")
        raise AuthError("用户名或密码错误")
    if _hasher.check_needs_rehash(stored):  # rare (the hash parameters changed): a lake write of its own
        with db.transaction(con) as cur:
            cur.execute("update users set password_hash = $h where username = $u",
                        {"h": hash_password(password), "u": username})
    with app.transaction() as run:
        run("delete from throttle where kind = 'login' and key = :k", {"k": pair_key})
        app.record(now, username, "login", username, {"client": client}, run=run)
    return user


def _pair_key(username: str, client: str) -> str:
    """The throttle key of a (user name, client) pair: the name as a digest (it may be anything typed)."""
    return f"{hashlib.sha256(username.encode('utf-8')).hexdigest()[:32]}|{client}"


def _throttle_row(app, kind: str, key: str, run=None) -> tuple | None:
    """(failures, last failure, locked until) of a throttle key, or None."""
    sql = "select failures, last_at, locked_until from throttle where kind = :k and key = :v"
    found = (run or app.rows)(sql, {"k": kind, "v": key})
    return (int(found[0][0]), appdb.parse(found[0][1]), appdb.parse(found[0][2])) if found else None


def _set_throttle(run, kind: str, key: str, failures: int, now: dt.datetime, locked_until: dt.datetime | None,
                  first: dt.datetime | None = None) -> None:
    run("insert into throttle (kind, key, failures, first_at, last_at, locked_until) values (:k, :v, :f, :first, :t, :l) "
        "on conflict (kind, key) do update set failures = excluded.failures, first_at = excluded.first_at, "
        "last_at = excluded.last_at, locked_until = excluded.locked_until",
        {"k": kind, "v": key, "f": failures, "first": appdb.stamp(first or now), "t": appdb.stamp(now),
         "l": appdb.stamp(locked_until)})


def _locked(row, now: dt.datetime) -> int | None:
    """Minutes left of a lock row (failures, last_failure_at, locked_until), or None when not locked."""
    if row and row[2] is not None and row[2] > now:
        return max(1, int((row[2] - now).total_seconds() // 60) + 1)
    return None


def _count(row, now: dt.datetime) -> int:
    """The failures to add one to: none after a served lock or a quiet spell as long as a lock."""
    if not row or row[2] is not None or row[1] < now - dt.timedelta(minutes=LOCK_MINUTES):
        return 1
    return row[0] + 1


def user_by_email(con, email: str) -> User | None:
    """OIDC: an identity provider's verified e-mail maps to an active account."""
    cur = con.cursor()
    try:
        rows = cur.execute("select username from users where lower(email) = lower($e) and active", {"e": email}).fetchall()
        return _load(cur, rows[0][0]) if rows else None
    finally:
        cur.close()


def accounts(con) -> dict[str, User]:
    """Every enabled account as _load would give it, in one read (the web layer caches it per run_state
    fingerprint, so a page run checks its identity without a query of its own)."""
    found = db.rows(con, "select u.username, u.display_name, u.role, u.school_code, s.school_name, "
                         "coalesce(u.session_epoch, 0), u.site_code, t.site_name from users u "
                         "left join schools s using (school_code) left join sites t on t.site_code = u.site_code "
                         "where u.active")
    return {r[0]: User(*r) for r in found}


def reload_user(con, username: str) -> User | None:
    """The account as stored now: a disabled account or a changed role takes effect on the next page."""
    cur = con.cursor()
    try:
        return _load(cur, username)
    finally:
        cur.close()
