"""考生成绩查询: a candidate's own result by ticket number and the last 6 characters of the ID number, for
the signed-out app (examdash/domain/lookup.py has the rules: same answer for any miss, throttled, audited)."""

from __future__ import annotations

import pandas as pd

from examdash.domain import lookup
from examdash.store import db, queries

COLUMNS = {"batch_name": "考试批次", "ticket_no": "准考证号", "name": "姓名", "level": "级别", "theory": "理论成绩",
           "practical": "实操成绩", "total": "总成绩", "verdict": "结果", "review": "成绩复核", "certificate": "证书",
           "publicity": "成绩公示期"}


def windows(con) -> list[str]:
    """When each batch's results can be looked up (public dates of the plan), latest first."""
    batches = queries.run(con, "batches")
    return [f"{r.batch_name}：成绩公示 {pd.Timestamp(r.publicity_start):%Y-%m-%d} 至 {pd.Timestamp(r.publicity_end):%Y-%m-%d}，"
            f"{pd.Timestamp(r.publicity_start):%m-%d} 起可查" for r in batches.itertuples()]


def find(con, ticket, id_tail, client: str | None) -> tuple[str, object]:
    """("ok", table) when found; ("miss", the one message for any miss); ("refused", when to try again)."""
    if not str(ticket or "").strip() or not str(id_tail or "").strip():
        return "miss", "请填写准考证号和身份证号后 6 位。"
    try:
        found = lookup.find(con, ticket, id_tail, client)
    except lookup.LookupRefused as exc:
        return "refused", str(exc)
    except db.DbError:
        return "refused", "系统繁忙，请稍后再试。"
    if not found:
        return "miss", lookup.NOT_FOUND
    table = pd.DataFrame([{k: getattr(f, k) for k in COLUMNS} for f in found]).rename(columns=COLUMNS)
    return "ok", table
