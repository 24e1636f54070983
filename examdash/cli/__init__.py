"""python -m examdash: everything the UI does, without the UI. One module per command group:
`imports` (import), `demo`, `query`, `users`, `backup` (backup, restore, convert); `init` is here.

It may import the views (for the same files the pages offer), the importers, the demo, the domain,
the store and `examdash.config`; never `examdash.web` or streamlit, so it runs without a server."""

from __future__ import annotations

import argparse
import sys

from examdash import config
from examdash.cli import backup, demo, imports, query, users
from examdash.cli.errors import EXIT_INVALID, EXIT_OK, EXIT_USAGE, UsageError
from examdash.store import db

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "UsageError", "main"]

COMMANDS = {"import": imports.run, "demo": demo.run, "query": query.run, "users": users.run,
            "backup": backup.run_backup, "restore": backup.run_restore, "convert": backup.run_convert,
            "maintain": backup.run_maintain}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m examdash", description="1+X 数字营销技术应用 考务数据看板：命令行")
    p.add_argument("--db", help="存储：DuckLake 目录文件路径或 postgresql:// 地址（默认取 EXAMDASH_DB，否则 data/demo.ducklake）")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("init", help="创建或迁移数据库，并载入 data/exam_plan.toml")
    for module in (imports, demo, query, users, backup):
        module.add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    try:
        return _dispatch(args)
    except UsageError as exc:
        print(f"用法错误：{exc}", file=sys.stderr)
        return EXIT_USAGE
    except db.DbError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:
        return EXIT_OK


def _dispatch(args) -> int:
    path = config.db_path(args.db)
    if args.cmd == "init":
        con = db.connect(path)
        print(f"数据库已就绪：{path}（数据版本 {db.data_version(con)}）")
        return EXIT_OK
    return COMMANDS[args.cmd](args, path)
