"""Running named queries with the caller's scope bound from the signed-in identity."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from examdash.store import db, mirror
from examdash.store.sql_files import EVENTS_TABLE, SCOPE_PARAM, SITE_SCOPE_PARAM, bind, get_query


@dataclass(frozen=True)
class Scope:
    """What rows an identity may see. school_code None means every school (staff, admin, CLI); a 考点
    account sees what sits at its site_code."""

    role: str
    school_code: str | None = None
    username: str = ""
    site_code: str | None = None

    @property
    def is_school(self) -> bool:
        return self.role == "school"

    @property
    def is_site(self) -> bool:
        return self.role == "site"

    @property
    def cache_key(self) -> tuple:
        return (self.role, self.school_code, self.site_code)


FULL_SCOPE = Scope(role="admin", school_code=None, username="cli")


def run(con, name: str, params: dict | None = None, scope: Scope = FULL_SCOPE, version: int | None = None) -> pd.DataFrame:
    """The query for `scope`. With `version` (a cached page query) it runs on this process's mirror of
    that data version (store/mirror.py); without, on the store itself."""
    q = get_query(name)
    bound = bind(q, params)
    if scope.is_school and not scope.school_code:
        raise PermissionError("学校账号没有关联院校，不能查看数据")
    if scope.is_site and not scope.site_code:
        raise PermissionError("考点账号没有关联考点，不能查看数据")
    if q.access == "admin" and scope.role != "admin":
        raise PermissionError(f"查询 {name} 仅限管理员")
    if q.scoped:
        bound[SCOPE_PARAM] = scope.school_code
    elif scope.is_school and q.access != "all":
        raise PermissionError(f"查询 {name} 不按院校限定范围，学校账号不能运行")
    if q.site_scoped:
        bound[SITE_SCOPE_PARAM] = scope.site_code
    elif scope.is_site and q.access != "all":
        raise PermissionError(f"查询 {name} 不按考点限定范围，考点账号不能运行")
    if q.reads_events:
        return _with_events(con, q.sql, bound)
    cur = con.cursor() if version is None else mirror.cursor(con, version)
    try:
        return cur.execute(q.sql, bound).df()
    finally:
        cur.close()


def _with_events(con, sql: str, bound: dict) -> pd.DataFrame:
    """A query that names request_events (logins, lookups, downloads, refusals: the application database's
    half of the audit log) runs on the lake itself, never a mirror or a cache (events bump no data version),
    with those events handed to it as a table (from $since when the query has it)."""
    since = bound.get("since")
    events = db.app(con).events(dt.datetime.fromisoformat(str(since)) if since else None)
    cur = con.cursor()
    try:
        cur.register(EVENTS_TABLE, events)
        return cur.execute(sql, bound).df()
    finally:
        cur.close()
