"""The pages of the app and the roles that may open them (app.py builds st.navigation from this)."""

from __future__ import annotations

from typing import NamedTuple


class PageSpec(NamedTuple):
    path: str
    title: str
    url: str
    roles: tuple[str, ...]


STAFF = ("admin", "staff")
PAGES = [
    PageSpec("pages/overview.py", "总览", "overview", STAFF),
    PageSpec("pages/registrations.py", "报名", "registrations", STAFF),
    PageSpec("pages/attendance.py", "考勤", "attendance", STAFF),
    PageSpec("pages/scores.py", "成绩", "scores", STAFF),
    PageSpec("pages/fees.py", "费用", "fees", STAFF),
    PageSpec("pages/reviews.py", "复核", "reviews", STAFF),
    PageSpec("pages/imports.py", "导入", "imports", ("admin",)),
    PageSpec("pages/users.py", "用户", "users", ("admin",)),
    PageSpec("pages/audit.py", "审计日志", "audit", ("admin",)),
    PageSpec("pages/school.py", "本校成绩", "school", ("school",)),
    PageSpec("pages/school_fees.py", "本校费用", "school-fees", ("school",)),
    PageSpec("pages/school_reviews.py", "成绩复核申请", "school-reviews", ("school",)),
]


def pages_for(role: str) -> list[PageSpec]:
    """The role's pages, in menu order."""
    return [p for p in PAGES if role in p.roles]
