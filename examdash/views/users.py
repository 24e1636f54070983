"""What the admin pages call: accounts and the audit log, for the signed-in admin."""

from __future__ import annotations

import pandas as pd

from examdash import web
from examdash.domain import auth

ACTION_LABELS = {
    "login": "登录", "login_failed": "登录失败", "login_refused_locked": "锁定期间尝试登录", "login_oidc": "单位账号登录",
    "logout": "退出", "import": "导入", "download": "下载", "view_unmasked": "查看完整身份信息",
    "user_add": "新建账号", "user_disable": "停用账号", "user_enable": "启用账号", "user_reset_password": "重置密码",
    "assign_payment": "认领到账", "pin_today": "固定演示日期",
}


def users_table() -> pd.DataFrame:
    web.require("admin")
    df = auth.list_users(web.con())
    df["角色"] = df["角色"].map(auth.ROLES)
    return df


def school_choices() -> dict[str, str]:
    options = web.query("filter_options")
    schools = options[options.kind == "school"].sort_values("code")
    return dict(zip(schools.code, schools.code + " " + schools.name))


def add_user(username, display, role, password, school_code, email, actor) -> None:
    web.require("admin")
    auth.create_user(web.con(), username, display, role, password, school_code=school_code, email=email, actor=actor)


def set_active(username: str, active: bool, actor: str) -> None:
    web.require("admin")
    auth.set_active(web.con(), username, active, actor)


def reset_password(username: str, password: str, actor: str) -> None:
    web.require("admin")
    auth.reset_password(web.con(), username, password, actor)


def audit_actions() -> list[str]:
    return web.query_live("audit_actions")["action"].tolist()


def audit_log(action: str | None, actor: str | None, days: int) -> pd.DataFrame:
    df = web.query_live("audit_log", action=action, actor=actor, since=str(web.today() - pd.Timedelta(days=days)))
    df["action"] = df["action"].map(lambda a: ACTION_LABELS.get(a, a))
    return df.rename(columns={"audit_id": "编号", "event_at": "时间", "actor": "操作人", "action": "操作",
                              "target": "对象", "detail": "详情"})
