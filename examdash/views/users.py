"""用户 (admin): the accounts and their roles, and what an admin does to them (each change audited in
the domain)."""

from __future__ import annotations

import pandas as pd

from examdash.domain import auth
from examdash.domain.rules import ROLES
from examdash.views.common import Run


def users_table(con) -> pd.DataFrame:
    df = auth.list_users(con)
    df["角色"] = df["角色"].map(ROLES)
    return df


def school_choices(run: Run) -> dict[str, str]:
    options = run("filter_options")
    schools = options[options.kind == "school"].sort_values("code")
    return dict(zip(schools.code, schools.code + " " + schools.name))


def add_user(con, admin, username, display, role, password, school_code, email, site_code=None) -> None:
    auth.create_user(con, username, display, role, password, school_code=school_code, email=email, actor=admin.username,
                     site_code=site_code)


def set_active(con, admin, username: str, active: bool) -> None:
    auth.set_active(con, username, active, admin.username)


def reset_password(con, admin, username: str, password: str) -> None:
    auth.reset_password(con, username, password, admin.username)
