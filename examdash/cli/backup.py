"""`backup DIR` / `restore DIR`: the whole database as Parquet and back (a restore runs nothing from the
folder but its COPY lines, and replaces the store's data in one transaction); `convert FILE.duckdb`: a
plain DuckDB database file (the store before DuckLake) copied into the store."""

from __future__ import annotations

import sys
from pathlib import Path

from examdash.store import db, lake


def add(sub) -> None:
    b = sub.add_parser("backup", help="把整个数据库导出到一个目录（Parquet + 建表语句）")
    b.add_argument("dir", type=Path)
    r = sub.add_parser("restore", help="从 backup 目录恢复数据库")
    r.add_argument("dir", type=Path)
    r.add_argument("--force", action="store_true", help="覆盖已存在的数据库中的数据")
    m = sub.add_parser("maintain", help="DuckLake 维护：删除早于若干天的快照及只被它们使用的数据文件")
    m.add_argument("--keep-days", type=int, default=30, help="保留最近多少天的快照（默认 30）")
    c = sub.add_parser("convert", help="把一个 DuckDB 数据库文件（.duckdb）的数据转换进当前存储（DuckLake）")
    c.add_argument("file", type=Path)
    c.add_argument("--force", action="store_true", help="目标存储已有数据时，整体替换")


def run_backup(args, path: Path) -> int:
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


def run_restore(args, path: Path) -> int:
    if not (args.dir / "schema.sql").exists():
        print(f"错误：{args.dir} 不是备份目录（缺少 schema.sql）", file=sys.stderr)
        return 2
    if lake.resolve(path).exists() and not args.force:
        print(f"错误：数据库 {path} 已存在；确认用备份整体替换其中的数据请加 --force", file=sys.stderr)
        return 2
    counts = db.restore(args.dir, path)
    print(f"已从 {args.dir} 恢复到 {path}：{len(counts)} 张表，{sum(counts.values()):,} 行")
    return 0


def run_maintain(args, path) -> int:
    if args.keep_days < 1:
        print("错误：--keep-days 至少为 1", file=sys.stderr)
        return 2
    con = db.connect(path)
    try:
        expired, removed = db.maintain(con, args.keep_days)
    finally:
        con.close()
    print(f"已删除 {expired} 个早于 {args.keep_days} 天的快照和 {removed} 个不再使用的数据文件")
    return 0


def run_convert(args, path) -> int:
    counts = db.convert(args.file, path, force=args.force)
    for table, n in sorted(counts.items()):
        print(f"  {table}: {n:,} 行")
    print(f"已把 {args.file} 转换进 {path}：{len(counts)} 张表，{sum(counts.values()):,} 行")
    return 0
