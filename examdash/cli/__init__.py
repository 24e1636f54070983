"""python -m examdash: everything the UI does, without the UI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from examdash import config
from examdash.importers.kinds import KINDS
from examdash.store import db

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m examdash", description="1+X 数字营销技术应用 考务数据看板：命令行")
    p.add_argument("--db", help="数据库文件（默认取 EXAMDASH_DB，否则 data/demo.duckdb）")
    sub = p.add_subparsers(dest="cmd", required=True)

    sub.add_parser("init", help="创建或迁移数据库，并载入 data/exam_plan.toml")

    imp = sub.add_parser("import", help="导入一个导出文件（.xlsx / .xls / .csv）")
    imp.add_argument("kind", choices=list(KINDS), help="文件类型（reviews：平台导出的成绩复核申请）")
    imp.add_argument("file", type=Path)
    imp.add_argument("--batch", help="文件没有「考试批次」列时指定批次代码，如 2023-1")
    imp.add_argument("--sheet", help="工作簿中要导入的工作表名称（默认取表头符合的第一张）")
    imp.add_argument("--dry-run", action="store_true", help="只校验并统计变化，不写入")
    imp.add_argument("--user", default="cli", help="记入导入日志的操作人")
    imp.add_argument("--confirm", action="store_true",
                     help="确认写入会改动已关联数据（签到、成绩、到账、复核项）的导入；先用 --dry-run 查看影响")

    demo = sub.add_parser("demo", help="生成演示导出文件并通过导入器导入")
    demo.add_argument("--seed", type=int, default=20230527)
    demo.add_argument("--candidates", type=int, default=60000)
    demo.add_argument("--out", type=Path, help="演示导出文件目录（默认 data/demo_exports）")

    q = sub.add_parser("query", help="运行 queries/ 中的命名查询")
    q.add_argument("name", nargs="?", help="查询名；省略则列出全部")
    q.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    q.add_argument("--format", choices=["csv", "table"], default="table")

    from examdash.cli import users as cli_more

    cli_more.add_commands(sub)
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
    if args.cmd == "import":
        return _import(args, path)
    if args.cmd == "demo":
        return _demo(args, path)
    if args.cmd == "query":
        return _query(args, path)
    from examdash.cli import users as cli_more

    return cli_more.dispatch(args, path)


def _import(args, path: Path) -> int:
    from examdash.importers import import_file

    if not args.file.exists():
        raise UsageError(f"文件不存在：{args.file}")
    from examdash import demo

    con = db.connect(path)
    refusal = demo.real_data_refusal(con, path)
    if refusal:
        con.close()
        print(f"错误：{refusal}", file=sys.stderr)
        return EXIT_INVALID
    result = import_file(con, args.kind, args.file, batch=args.batch, actor=args.user, dry_run=args.dry_run, db_file=path,
                         confirm=args.confirm, sheet=args.sheet)
    for line in result.lines(limit=1000):
        print(line, file=sys.stderr if not result.ok else sys.stdout)
    for line in result.impacts:
        print(f"影响：{line}")
    print(result.summary())
    if result.ok and result.needs_confirm and not (result.written or args.dry_run):
        print("本次导入会改动已关联的数据（见上）。核对无误后加 --confirm 重新运行。", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK if result.ok else EXIT_INVALID


def _demo(args, path: Path) -> int:
    from examdash import demo
    from examdash.importers import import_file

    if args.candidates < 100:
        raise UsageError("--candidates 至少为 100")
    out = args.out or (config.DATA_DIR / "demo_exports")
    files = demo.generate(out, seed=args.seed, candidates=args.candidates)
    con = db.connect(path)
    demo.pin_today(con)
    for kind, file, batch in files:
        result = import_file(con, kind, file, batch=batch, actor="demo", db_file=path)
        print(result.summary())
        if not result.ok:
            for line in result.lines(limit=20):
                print(line, file=sys.stderr)
            return EXIT_INVALID
    demo.finish(con, path, seed=args.seed)
    print(f"演示数据库已生成：{path}；演示导出文件在 {out}")
    return EXIT_OK


def _query(args, path: Path) -> int:
    from examdash.store import queries
    from examdash.store.sql_files import QueryError, get_query, named_queries

    if not args.name:
        for q in named_queries().values():
            params = ", ".join(sorted(q.required) + [p + "?" for p in sorted(q.optional)])
            print(f"{q.name}({params}) — {q.purpose}")
        return EXIT_OK
    params = {}
    for item in args.param:
        if "=" not in item:
            raise UsageError(f"--param 应写成 key=value：{item}")
        k, v = item.split("=", 1)
        params[k.strip()] = v
    try:
        queries.bind(get_query(args.name), params)
    except QueryError as exc:
        raise UsageError(str(exc)) from exc
    if not path.exists():
        raise db.DbError(f"数据库文件不存在：{path}（先运行 python -m examdash init 或 demo）")
    if db.pending_migrations(path):
        db.connect(path).close()  # a query must never meet an old schema
    con = db.connect(path, read_only=True)
    try:
        df = queries.run(con, args.name, params, queries.FULL_SCOPE)
    except QueryError as exc:
        raise UsageError(str(exc)) from exc
    if args.format == "csv":
        from examdash.views import exports

        sys.stdout.write(exports.neutralise(df).to_csv(index=False))  # formula-safe, as every download
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 200, "display.max_columns", 50, "display.width", 200):
            print(df.to_string(index=False) if len(df) else "（无结果）")
    return EXIT_OK
