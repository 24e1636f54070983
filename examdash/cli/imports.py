"""`import KIND FILE`: validate an export and write it in one transaction (or only check it).

SIGTERM is a normal exit here (SystemExit 143, store/leftovers.py), like Ctrl-C: the write transaction rolls
back (DuckLake deletes the data files it wrote) and the original the import kept is removed when no other
import is under way. Killed outright (SIGKILL), it leaves both: the next `maintain` or start of the app
removes them."""

from __future__ import annotations

import sys
from pathlib import Path

from examdash.cli.errors import EXIT_INVALID, EXIT_OK, UsageError
from examdash.importers.kinds import KINDS
from examdash.store import db, leftovers, sweep


def add(sub) -> None:
    imp = sub.add_parser("import", help="导入一个导出文件（.xlsx / .xls / .csv）")
    imp.add_argument("kind", choices=list(KINDS), help="文件类型（reviews：平台导出的成绩复核申请）")
    imp.add_argument("file", type=Path)
    imp.add_argument("--batch", help="文件没有「考试批次」列时指定批次代码，如 2023-1")
    imp.add_argument("--sheet", help="工作簿中要导入的工作表名称（默认取表头符合的第一张）")
    imp.add_argument("--dry-run", action="store_true", help="只校验并统计变化，不写入")
    imp.add_argument("--user", default="cli", help="记入导入日志的操作人")
    imp.add_argument("--confirm", action="store_true",
                     help="确认写入会改动已关联数据（签到、成绩、到账、复核项）的导入；先用 --dry-run 查看影响")


def run(args, path: Path) -> int:
    from examdash.importers import import_file

    leftovers.exit_on_sigterm()
    if not args.file.exists():
        raise UsageError(f"文件不存在：{args.file}")
    from examdash import demo

    con = db.connect(path)
    refusal = demo.real_data_refusal(con, path)
    if refusal:
        con.close()
        print(f"错误：{refusal}", file=sys.stderr)
        return EXIT_INVALID
    try:
        with sweep.importing(con):  # a sweep meanwhile leaves the original it copies aside alone
            result = import_file(con, args.kind, args.file, batch=args.batch, actor=args.user, dry_run=args.dry_run,
                                 db_file=path, confirm=args.confirm, sheet=args.sheet)
    except BaseException:
        sweep.after_failed_import(con)
        if leftovers.terminated():  # DuckDB turns the signal into "Query interrupted": still SIGTERM's exit
            raise SystemExit(leftovers.EXIT_SIGTERM) from None
        raise
    for line in result.lines(limit=1000):
        print(line, file=sys.stderr if not result.ok else sys.stdout)
    for line in result.impacts:
        print(f"影响：{line}")
    print(result.summary())
    if result.ok and result.needs_confirm and not (result.written or args.dry_run):
        print("本次导入会改动已关联的数据（见上）。核对无误后加 --confirm 重新运行。", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK if result.ok else EXIT_INVALID
