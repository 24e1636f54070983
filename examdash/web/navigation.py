"""The pages of the app and the roles that may open them (app.py builds st.navigation from this)."""

from __future__ import annotations

from typing import NamedTuple

from examdash.domain.rules import STAFF_ROLES


class PageSpec(NamedTuple):
    path: str
    title: str
    url: str
    roles: tuple[str, ...]


STAFF = STAFF_ROLES
PAGES = [
    PageSpec("app_pages/overview.py", "总览", "overview", STAFF),
    PageSpec("app_pages/registrations.py", "报名", "registrations", STAFF),
    PageSpec("app_pages/attendance.py", "考勤", "attendance", STAFF),
    PageSpec("app_pages/scores.py", "成绩", "scores", STAFF),
    PageSpec("app_pages/fees.py", "费用", "fees", STAFF),
    PageSpec("app_pages/reviews.py", "复核", "reviews", STAFF),
    PageSpec("app_pages/imports.py", "导入", "imports", ("admin",)),
    PageSpec("app_pages/users.py", "用户", "users", ("admin",)),
    PageSpec("app_pages/audit.py", "审计日志", "audit", ("admin",)),
    PageSpec("app_pages/school.py", "本校成绩", "school", ("school",)),
    PageSpec("app_pages/school_fees.py", "本校费用", "school-fees", ("school",)),
    PageSpec("app_pages/school_reviews.py", "成绩复核申请", "school-reviews", ("school",)),
]


def pages_for(role: str) -> list[PageSpec]:
    """The role's pages, in menu order."""
    return [p for p in PAGES if role in p.roles]
