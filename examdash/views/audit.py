"""审计日志 (admin): logins, refusals, imports, downloads and every write, newest first: the lake's audit
rows (来源 数据) and the application database's request events (来源 请求) as one log. Read live (not from
the cache): rows are written without a data version bump."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from examdash.views.common import Run

ACTION_LABELS = {
    "login": "登录", "login_failed": "登录失败", "login_refused_locked": "锁定期间尝试登录",
    "login_refused_client_locked": "来源锁定期间尝试登录", "login_oidc": "单位账号登录", "logout": "退出",
    "import": "导入", "download": "下载", "download_refused": "拒绝下载", "view_unmasked": "查看完整身份信息",
    "user_add": "新建账号", "user_disable": "停用账号", "user_enable": "启用账号", "user_reset_password": "重置密码",
    "assign_payment": "认领到账", "rematch_payments": "重新匹配到账", "pin_today": "固定演示日期",
    "review_file": "提交复核申请", "review_add_items": "追加复核项", "review_start": "开始复核", "review_decide": "复核结论",
    "review_refused": "拒绝复核操作", "signoff": "证书签发",
    "paper_certificates": "登记纸质证书", "paper_certificates_refused": "拒绝登记纸质证书",
    "candidate_lookup": "考生查询成绩", "candidate_lookup_refused": "拒绝考生查询", "rooms_refused": "拒绝考场编排操作",
    "rooms_arrange": "编排考场", "rooms_move": "调整座位", "rooms_lock": "锁定考场编排", "rooms_unlock": "解锁考场编排",
    "maintain": "存储维护", "restore": "从备份恢复", "convert": "转换存储",
}


def actions(run: Run) -> list[str]:
    return run("audit_actions")["action"].tolist()


def log(run: Run, today: dt.date, action: str | None, actor: str | None, days: int) -> pd.DataFrame:
    df = run("audit_log", action=action, actor=actor, since=str(today - pd.Timedelta(days=days)))
    df["action"] = df["action"].map(lambda a: ACTION_LABELS.get(a, a))
    return df.rename(columns={"source": "来源", "event_no": "编号", "event_at": "时间", "actor": "操作人", "action": "操作",
                              "target": "对象", "detail": "详情"})
