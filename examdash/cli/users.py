"""`users …`: accounts (add, disable, enable, reset-password, list) and the demo's logins."""

from __future__ import annotations

import getpass
import sys

from examdash.domain.rules import ROLES
from examdash.store import db


def add(sub) -> None:
    u = sub.add_parser("users", help="账号管理：add | disable | enable | reset-password | list | demo-logins")
    us = u.add_subparsers(dest="users_cmd", required=True)
    add = us.add_parser("add", help="新建账号（密码从提示或标准输入读取，绝不从命令行参数读取）")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["admin", "staff", "school", "site"])
    add.add_argument("--name", help="显示名")
    add.add_argument("--school", help="学校账号的院校代码")
    add.add_argument("--site", help="考点账号的考点代码")
    add.add_argument("--email", help="OIDC 登录时映射用的邮箱")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    for name in ("disable", "enable"):
        x = us.add_parser(name)
        x.add_argument("username")
    rp = us.add_parser("reset-password")
    rp.add_argument("username")
    rp.add_argument("--password-stdin", action="store_true")
    us.add_parser("list")
    us.add_parser("demo-logins", help="打印演示账号（仅演示数据库）")


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码：")
    if getpass.getpass("再输入一次：") != first:
        raise SystemExit("两次输入的密码不一致")
    return first


def run(args, path) -> int:
    from examdash.domain import auth

    con = db.connect(path)
    try:
        if args.users_cmd == "add":
            user = auth.create_user(con, args.username, args.name or args.username, args.role,
                                    _read_password(args.password_stdin), school_code=args.school, email=args.email,
                                    site_code=args.site)
            print(f"已创建账号 {user.username}（{ROLES[user.role]}）")
        elif args.users_cmd in ("disable", "enable"):
            auth.set_active(con, args.username, args.users_cmd == "enable", "cli")
            print(f"账号 {args.username} 已{'启用' if args.users_cmd == 'enable' else '停用'}")
        elif args.users_cmd == "reset-password":
            auth.reset_password(con, args.username, _read_password(args.password_stdin), "cli")
            print(f"账号 {args.username} 的密码已重置")
        elif args.users_cmd == "list":
            df = auth.list_users(con)
            print(df.to_string(index=False) if len(df) else "（还没有账号）")
        elif args.users_cmd == "demo-logins":
            from examdash import demo

            if db.get_meta(con, "today") != demo.DEMO_TODAY:
                print("（不是演示数据库，不打印账号）")
                return 0
            print("演示账号（仅演示数据，勿用于真实数据）：")
            for username, display, role, school in demo.demo_users(con):
                print(f"  {username:<8} / {demo.DEMO_PASSWORD[role]:<16} {ROLES[role]} {display}")
    except auth.AuthError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    return 0
