"""CLI commands beyond the foundation: users, backup and restore."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from examdash.store import db


def add_commands(sub) -> None:
    u = sub.add_parser("users", help="账号管理：add | disable | enable | reset-password | list | demo-logins")
    us = u.add_subparsers(dest="users_cmd", required=True)
    add = us.add_parser("add", help="新建账号（密码从提示或标准输入读取，绝不从命令行参数读取）")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["admin", "staff", "school"])
    add.add_argument("--name", help="显示名")
    add.add_argument("--school", help="学校账号的院校代码")
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

    b = sub.add_parser("backup", help="把整个数据库导出到一个目录（Parquet + 建表语句）")
    b.add_argument("dir", type=Path)
    r = sub.add_parser("restore", help="从 backup 目录恢复数据库")
    r.add_argument("dir", type=Path)
    r.add_argument("--force", action="store_true", help="覆盖已存在的数据库文件")


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码：")
    if getpass.getpass("再输入一次：") != first:
        raise SystemExit("两次输入的密码不一致")
    return first


def dispatch(args, path) -> int:
    if args.cmd == "users":
        return _users(args, path)
    if args.cmd == "backup":
        return _backup(args, path)
    if args.cmd == "restore":
        return _restore(args, path)
    raise ValueError(args.cmd)


def _backup(args, path: Path) -> int:
    target = args.dir
    if target.exists() and any(target.iterdir()):
        print(f"错误：备份目录 {target} 已存在且不为空，请指定一个新目录", file=sys.stderr)
        return 2
    con = db.connect(path)
    target.mkdir(parents=True, exist_ok=True)
    db.backup(con, target)
    con.close()
    print(f"已备份 {path} 到 {target}")
    return 0


def _restore(args, path: Path) -> int:
    if not (args.dir / "schema.sql").exists():
        print(f"错误：{args.dir} 不是备份目录（缺少 schema.sql）", file=sys.stderr)
        return 2
    if path.exists() and not args.force:
        print(f"错误：数据库 {path} 已存在；确认覆盖请加 --force", file=sys.stderr)
        return 2
    db.restore(args.dir, path)
    print(f"已从 {args.dir} 恢复到 {path}")
    return 0


def _users(args, path) -> int:
    from examdash.domain import auth

    con = db.connect(path)
    try:
        if args.users_cmd == "add":
            user = auth.create_user(con, args.username, args.name or args.username, args.role,
                                    _read_password(args.password_stdin), school_code=args.school, email=args.email)
            print(f"已创建账号 {user.username}（{auth.ROLES[user.role]}）")
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
                print(f"  {username:<8} / {demo.DEMO_PASSWORD[role]:<16} {auth.ROLES[role]} {display}")
    except auth.AuthError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    return 0
