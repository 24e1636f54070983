"""`query [NAME]`: list the named queries, or run one (a table, or formula-safe CSV)."""

from __future__ import annotations

import sys
from pathlib import Path

from examdash.cli.errors import EXIT_OK, UsageError
from examdash.store import db


def add(sub) -> None:
    q = sub.add_parser("query", help="运行 queries/ 中的命名查询")
    q.add_argument("name", nargs="?", help="查询名；省略则列出全部")
    q.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    q.add_argument("--format", choices=["csv", "table"], default="table")


def run(args, path: Path) -> int:
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
