"""The pages of the app and the roles that may open them (app.py builds st.navigation from this).

One name per page: the stem is the page script (app_pages/<stem>.py), its view (examdash/views/<stem>.py),
its AppTest (tests/pages/test_<stem>.py) and its URL path (/<stem>); the title is its menu entry.
"""

from __future__ import annotations

from typing import NamedTuple

from examdash.domain.rules import STAFF_ROLES

ADMIN, SCHOOL, SITE = ("admin",), ("school",), ("site",)


class PageSpec(NamedTuple):
    stem: str
    title: str
    roles: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"app_pages/{self.stem}.py"

    @property
    def url(self) -> str:
        return self.stem


PAGES = [
    PageSpec("overview", "总览", STAFF_ROLES),
    PageSpec("registrations", "报名", STAFF_ROLES),
    PageSpec("attendance", "考勤", STAFF_ROLES),
    PageSpec("scores", "成绩", STAFF_ROLES),
    PageSpec("fees", "费用", STAFF_ROLES),
    PageSpec("reviews", "复核", STAFF_ROLES),
    PageSpec("certificates", "证书", STAFF_ROLES),
    PageSpec("site", "本考点", SITE),
    PageSpec("rooms", "考场编排", STAFF_ROLES + SITE),
    PageSpec("imports", "导入", ADMIN),
    PageSpec("users", "用户", ADMIN),
    PageSpec("audit", "审计日志", ADMIN),
    PageSpec("school", "本校成绩", SCHOOL),
    PageSpec("school_fees", "本校费用", SCHOOL),
    PageSpec("school_reviews", "成绩复核申请", SCHOOL),
    PageSpec("school_certificates", "本校证书", SCHOOL),
]


# The candidates' self-lookup, linked from the menu of the signed-out app: a plain HTTP page of serve.py
# (examdash/web/lookup_route.py), not a Streamlit page.
LOOKUP_TITLE = "考生成绩查询"
LOOKUP_URL = "/lookup"


def pages_for(role: str) -> list[PageSpec]:
    """The role's pages, in menu order."""
    return [p for p in PAGES if role in p.roles]
