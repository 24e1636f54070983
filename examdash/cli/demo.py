"""`demo`: write the seeded demo exports and import them through the importers, as a user would."""

from __future__ import annotations

import sys
from pathlib import Path

from examdash import config
from examdash.cli.errors import EXIT_INVALID, EXIT_OK, UsageError
from examdash.store import db


def add(sub) -> None:
    demo = sub.add_parser("demo", help="生成演示导出文件并通过导入器导入")
    demo.add_argument("--seed", type=int, default=20230527)
    demo.add_argument("--candidates", type=int, default=60000)
    demo.add_argument("--out", type=Path, help="演示导出文件目录（默认 data/demo_exports）")


def run(args, path: Path) -> int:
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
