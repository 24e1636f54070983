"""`backup DIR` / `restore DIR`: the whole database as Parquet and back (a restore runs nothing from the
folder but its COPY lines, and replaces the store's data in one transaction); `convert FILE.duckdb`: a
plain DuckDB database file (the store before DuckLake) copied into the store."""

from __future__ import annotations

import sys
from pathlib import Path

from examdash.store import db, lake, private


def add(sub) -> None:
    b = sub.add_parser("backup", help="把整个数据库导出到一个目录（Parquet + 建表语句）")
    b.add_argument("dir", type=Path)
    r = sub.add_parser("restore", help="从 backup 目录恢复数据库")
    r.add_argument("dir", type=Path)
    r.add_argument("--force", action="store_true", help="覆盖已存在的数据库中的数据")
    m = sub.add_parser("maintain", help="DuckLake 维护：删除早于若干天的快照及只被它们使用的数据文件（应用每小时自动运行一次）")
    m.add_argument("--keep-days", type=float, default=None,
                   help="保留最近多少天的快照（默认取 EXAMDASH_SNAPSHOT_KEEP_DAYS，未设置时为 14）")
    c = sub.add_parser("convert", help="把一个 DuckDB 数据库文件（.duckdb）的数据转换进当前存储（DuckLake）")
    c.add_argument("file", type=Path)
    c.add_argument("--force", action="store_true", help="目标存储已有数据时，整体替换")


def run_backup(args, path: Path) -> int:
    target = args.dir
    if target.exists() and any(target.iterdir()):
        print(f"错误：备份目录 {target} 已存在且不为空，请指定一个新目录", file=sys.stderr)
        return 2
    con = db.connect(path)
    private.private_dir(target)  # a whole copy of the data: the owner's alone (store/private.py)
    db.backup(con, target)
    con.close()
    private.private_tree(target)
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
    from examdash.store import sweep

    con = db.connect(path)
    try:
        moved = sweep.set_aside_originals(con)  # imports after the backup: their originals are kept, not swept
    finally:
        con.close()
    if moved:
        print(f"备份之后导入的 {moved} 个原件已移到导入原件目录下的 restored_* 子目录（未删除，可用于重新导入）")
    return 0


def run_maintain(args, path) -> int:
    from examdash.store import maintenance

    keep = maintenance.keep_days_setting() if args.keep_days is None else args.keep_days
    if keep < 0:
        print("错误：--keep-days 不能为负数", file=sys.stderr)
        return 2
    con = db.connect(path)
    try:
        done = db.maintain(con, keep)
    finally:
        con.close()
    print(f"已删除 {done['snapshots_expired']} 个早于 {keep:g} 天的快照和 {done['files_deleted']} 个不再使用的数据文件")
    catalog = f"，目录文件 {done['catalog_bytes']:,} 字节" if "catalog_bytes" in done else ""
    print(f"现有 {done['snapshots']} 个快照、{done['data_files']} 个数据文件（{done['data_bytes']:,} 字节）{catalog}；"
          f"用时 {done['seconds']:.1f} 秒")
    print(f"已删除已退出进程留下的 {done.get('leftover_folders', 0)} 个临时目录、{done.get('orphan_files', 0)} 个未被任何快照"
          f"引用的数据文件、{done.get('orphan_originals', 0)} 个没有导入记录的原件副本")
    _print_modes(done)
    return 0


def _print_modes(done: dict) -> None:
    """What the pass tightened of the store's file modes (store/private.py: repair)."""
    files, folders = done.get("modes_files", 0), done.get("modes_folders", 0)
    if files or folders:
        print(f"已收紧权限：{files} 个文件改为 0600，{folders} 个目录改为 0700（此前同组或其他用户可以访问）：")
        for shown in done.get("modes_paths", []):
            print(f"  {shown}")
        if files + folders > len(done.get("modes_paths", [])):
            print(f"  ……等共 {files + folders} 项")
    elif not done.get("modes_failed"):
        print("文件权限无需收紧：数据文件均为 0600，目录均为 0700")
    for failed in done.get("modes_failed", []):
        print(f"警告：无法收紧 {failed} 的权限（不属于当前用户？），请由其所有者执行 chmod go-rwx", file=sys.stderr)


def run_convert(args, path) -> int:
    counts = db.convert(args.file, path, force=args.force)
    for table, n in sorted(counts.items()):
        print(f"  {table}: {n:,} 行")
    print(f"已把 {args.file} 转换进 {path}：{len(counts)} 张表，{sum(counts.values()):,} 行")
    return 0
