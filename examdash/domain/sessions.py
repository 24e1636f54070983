"""Web sessions that survive a reload and a new tab (table web_sessions of the application database,
examdash/store/appdb.py: a login, a touch or a logout is no lake snapshot).

The browser holds a random token in an HttpOnly cookie that the sign-in page (web/signin_route.py) sets
on its own response: a token is issued at each login and never taken from the browser, so a token
planted before the login is never signed in. The store keeps only its SHA-256. A login opens a record
for the new token and the account; a page run of any tab of that browser
finds the newest open record and signs in as its account, provided the account still holds (enabled,
same password epoch). A record is closed by logout in any tab, a password reset, disabling the account,
or idling past the timeout; other tabs of the browser are signed out at their next page run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from examdash import config
from examdash.store import appdb, db

TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
TOUCH_EVERY = dt.timedelta(seconds=60)  # last_seen is written at most this often per session (a tenth of
# the timeout when that is shorter), so the expiry is right to within a minute and costs no write per page run


def new_token() -> str:
    return secrets.token_urlsafe(32)


def valid_token(token: str | None) -> bool:
    return isinstance(token, str) and TOKEN.fullmatch(token) is not None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _timeout() -> dt.timedelta:
    return dt.timedelta(minutes=config.session_timeout_minutes())


def open_session(con, token: str, username: str, epoch: int, method: str) -> int:
    """A login in the browser holding `token`: a new record (older open ones of the token are closed)."""
    if not valid_token(token):
        raise ValueError("invalid session token")
    h, now = token_hash(token), db.clock(con)
    with db.app(con).transaction() as run:
        run("update web_sessions set revoked_at = :t, revoked_reason = '重新登录' "
            "where token_hash = :h and revoked_at is null", {"t": appdb.stamp(now), "h": h})
        return int(run("insert into web_sessions (token_hash, username, epoch, method, created_at, last_seen, "
                       "expires_at) values (:h, :u, :e, :m, :t, :t, :x) returning session_id",
                       {"h": h, "u": username, "e": epoch, "m": method, "t": appdb.stamp(now),
                        "x": appdb.stamp(now + _timeout())})[0][0])


def find(con, token: str | None) -> tuple[int, str, int, str] | None:
    """The open, unexpired record of the browser's token: (session_id, username, epoch, method)."""
    if not valid_token(token):
        return None
    found = db.app(con).rows("select session_id, username, epoch, method from web_sessions where token_hash = :h "
                             "and revoked_at is null and expires_at > :t order by session_id desc limit 1",
                             {"h": token_hash(token), "t": appdb.stamp(db.clock(con))})
    return tuple(found[0]) if found else None


def touch(con, session_id: int, last_seen: dt.datetime | None, now: dt.datetime) -> None:
    """Move an open session's expiry on; written at most once a minute per session."""
    if last_seen is not None and now - last_seen < min(TOUCH_EVERY, _timeout() / 10):
        return
    with db.app(con).transaction() as run:
        run("update web_sessions set last_seen = :t, expires_at = :x where session_id = :s and revoked_at is null",
            {"t": appdb.stamp(now), "x": appdb.stamp(now + _timeout()), "s": session_id})


def revoke_token(con, token: str | None, reason: str) -> None:
    """Close every open record of a token (the one a browser brought to a new login is never reused)."""
    if not valid_token(token):
        return
    with db.app(con).transaction() as run:
        run("update web_sessions set revoked_at = :t, revoked_reason = :r where token_hash = :h and revoked_at is null",
            {"t": appdb.stamp(db.clock(con)), "r": reason, "h": token_hash(token)})


def revoke(con, session_id: int, reason: str) -> None:
    with db.app(con).transaction() as run:
        run("update web_sessions set revoked_at = :t, revoked_reason = :r where session_id = :s and revoked_at is null",
            {"t": appdb.stamp(db.clock(con)), "r": reason, "s": session_id})


def revoke_user(con, username: str, reason: str) -> None:
    """Close every open session of an account. Called after the lake transaction that bumped the account's
    session epoch has committed: the epoch alone already refuses those sessions, this closes their records."""
    with db.app(con).transaction() as run:
        run("update web_sessions set revoked_at = :t, revoked_reason = :r where username = :u and revoked_at is null",
            {"t": appdb.stamp(db.clock(con)), "r": reason, "u": username})
