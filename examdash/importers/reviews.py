"""Importing the platform's export of score-review requests (复核申请), the eighth import kind.

The same rules as the school leaders' form (examdash/domain/reviews.py): filed inside the batch's
publicity window, only for the school's own candidates, one of the five reasons, a note for 其他.
Each row becomes an item of the school's request of the batch (created when needed).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from examdash.config import imports_dir
from examdash.domain import reviews, rules
from examdash.domain.reviews import ItemInput
from examdash.importers import ImportResult, isolate, sha256_of
from examdash.importers.kinds import (
    KINDS,
    Checker,
    Issue,
    cap_cells,
    clean_code,
    parse_dates,
    present,
)
from examdash.importers.reading import ReadError, norm_header, read_table
from examdash.store import db

KIND = KINDS["reviews"]
# How the platform's exports spell the reason; anything else is an error naming the allowed five.
REASON_ALIASES = {
    **{r: r for r in rules.REVIEW_REASONS},
    "理论成绩": "理论", "理论分数": "理论", "理论考试": "理论",
    "实操成绩": "实操", "实操分数": "实操", "实操考试": "实操", "技能成绩": "实操",
    "总成绩": "总分", "总分数": "总分", "综合成绩": "总分",
    "缺考": "缺考误判", "误判缺考": "缺考误判", "缺考误报": "缺考误判",
    "其它": "其他", "其他原因": "其他",
}


@dataclass
class ReviewImportResult(ImportResult):
    requests_created: int = 0

    def summary(self) -> str:
        if not self.ok:
            return super().summary()
        head = (f"{self.file_name}（复核申请）：共 {self.rows_total} 行，新增复核项 {self.added}"
                f"（新建申请 {self.requests_created}），未变 {self.unchanged}")
        if not self.written:
            return head + "。（仅校验，未写入）"
        return head + ("。已写入。" if self.added else "。数据无变化（同样的内容已导入过）。")


def preview_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["unchanged"], errors="ignore").rename(columns={f.name: f.label for f in KIND.fields})


def _validate(con, path: Path, result: ReviewImportResult, batch: str | None, sheet: str | None,
              isolated: bool) -> pd.DataFrame | None:
    try:
        raw = (isolate.read_table if isolated else read_table)(path, KIND.alias_map, KIND.required, sheet)
    except ReadError as exc:
        result.issues.append(Issue(None, None, str(exc)))
        return None
    headers = {}
    for h in raw.headers:
        f = KIND.alias_map.get(norm_header(h))
        if f and f not in headers:
            headers[f] = h
    result.header_row, result.encoding, result.unmapped = raw.header_row, raw.encoding, raw.unmapped
    result.sheet, result.sheets_matching = raw.sheet, raw.sheets_matching
    result.mapping = {h: KIND.label_of(f) for f, h in headers.items()}
    n = len(raw.row_numbers)
    result.rows_total = n
    ck = Checker(KIND, raw.row_numbers, headers, raw.header_row)
    missing = [f.label for f in KIND.fields if f.required and f.name not in raw.columns]
    if missing:
        result.issues.append(Issue(raw.header_row, "、".join(missing),
                                   f"缺少必需的列：{'、'.join(missing)}（第 {raw.header_row} 行被识别为表头）"))
        return None
    if n == 0:
        ck.file_error("表头下面没有数据行")
        result.issues = ck.issues
        return None
    cols = raw.columns
    cap_cells(ck, cols)
    for f in KIND.fields:
        if f.required:
            ck.flag(~present(cols[f.name]), f.name, f"{f.label}不能为空")

    wins = reviews.windows(con)
    names = {w.batch_name: c for c, w in wins.items()} | {c: c for c in wins}
    if "batch_code" in cols:
        raw_b = cols["batch_code"].str.strip()
        if batch is not None:
            raw_b = raw_b.fillna(batch)
        b = raw_b.map(lambda v: names.get(v) if isinstance(v, str) else None)
        ck.flag(present(raw_b) & b.isna().to_numpy(), "batch_code",
                lambda i: f"考试批次「{raw_b.iat[i]}」不在考试计划中（已有：{'、'.join(wins)}）")
        ck.flag(~present(raw_b), "batch_code", "考试批次不能为空（或用 --batch 指定）")
    elif batch is None:
        ck.file_error("文件没有「考试批次」列：请指定批次（命令行 --batch，或在导入页选择）", "batch_code")
        result.issues = ck.issues
        return None
    elif batch not in wins:
        ck.file_error(f"批次 {batch} 不在考试计划中（已有：{'、'.join(wins)}）", "batch_code")
        result.issues = ck.issues
        return None
    else:
        b = pd.Series([batch] * n, dtype="str")

    school = clean_code(cols["school_code"], ck, "school_code")
    known_schools = {r[0] for r in db.rows(con, "select school_code from schools")}
    ck.flag(present(school) & ~school.isin(known_schools).to_numpy(), "school_code",
            lambda i: f"院校代码「{school.iat[i]}」不存在")
    ticket = clean_code(cols["ticket_no"], ck, "ticket_no")
    reason_raw = cols["reason_type"]
    reason = reason_raw.map(lambda v: REASON_ALIASES.get(norm_header(v)) if isinstance(v, str) else None)
    ck.flag(present(reason_raw) & reason.isna().to_numpy(), "reason_type",
            lambda i: f"复核原因「{reason_raw.iat[i]}」无效，应为 {'、'.join(rules.REVIEW_REASONS)} 之一")
    text = cols["reason_text"] if "reason_text" in cols else pd.Series([None] * n, dtype="str")
    ck.flag((reason == "其他").fillna(False).to_numpy() & ~present(text), "reason_text",
            "复核原因为「其他」时须填写说明")
    ck.flag(present(text) & (text.str.len() > reviews.MAX_TEXT).fillna(False).to_numpy(), "reason_text",
            f"说明不能超过 {reviews.MAX_TEXT} 字")
    when = parse_dates(ck, cols["filed_at"], "filed_at", with_time=True)

    for i in range(n):
        code = b.iat[i]
        if not isinstance(code, str) or pd.isna(when.iat[i]):
            continue
        w = wins[code]
        day = when.iat[i].date()
        if day < w.start:
            ck.flag(_one(n, i), "filed_at",
                    f"提交时间 {when.iat[i]:%Y-%m-%d %H:%M} 早于成绩公示期（{w.span}），公示期内方可申请复核")
        elif day > w.end:
            ck.flag(_one(n, i), "filed_at",
                    f"提交时间 {when.iat[i]:%Y-%m-%d %H:%M} 晚于成绩公示期截止日 {w.end:%Y-%m-%d}，逾期申请不予受理")

    keys = pd.DataFrame({"batch_code": b, "ticket_no": ticket})
    regs = pd.DataFrame(db.rows(
        con, "select batch_code, ticket_no, school_code, status from registrations "
             "where ticket_no is not null and list_contains($b, batch_code)",
        {"b": sorted({x for x in b.dropna().unique()})}), columns=["batch_code", "ticket_no", "reg_school", "reg_status"])
    merged = keys.merge(regs, on=["batch_code", "ticket_no"], how="left")
    ok_keys = present(b) & present(ticket)
    ck.flag(ok_keys & merged.reg_school.isna().to_numpy(), "ticket_no",
            lambda i: f"准考证号「{ticket.iat[i]}」在批次 {b.iat[i]} 中没有报名记录")
    other = ok_keys & present(school) & merged.reg_school.notna().to_numpy() & (
        merged.reg_school.to_numpy() != school.to_numpy())
    ck.flag(other, "ticket_no",
            lambda i: f"准考证号「{ticket.iat[i]}」不是院校 {school.iat[i]} 的考生（报名院校为 {merged.reg_school.iat[i]}），"
                      "院校只能为本校考生申请复核")
    ck.flag(ok_keys & (merged.reg_status == "已取消").fillna(False).to_numpy(), "ticket_no",
            lambda i: f"准考证号「{ticket.iat[i]}」的报名已取消")

    frame = pd.DataFrame({"batch_code": b, "school_code": school, "ticket_no": ticket, "reason_type": reason,
                          "reason_text": text, "filed_at": when})
    dup = frame.duplicated(subset=["batch_code", "ticket_no"], keep="first").to_numpy()
    if dup.any():
        first = {}
        for i, k in enumerate(zip(b, ticket)):
            first.setdefault(k, raw.row_numbers[i])
        ck.flag(dup, "ticket_no", lambda i: f"文件内重复：准考证号「{ticket.iat[i]}」与第 {first[(b.iat[i], ticket.iat[i])]} 行相同")

    stored = pd.DataFrame(db.rows(
        con, "select r.batch_code, i.ticket_no, r.school_code, i.reason_type, i.reason_text, i.status, i.item_id "
             "from review_items i join review_requests r using (request_id)"),
        columns=["batch_code", "ticket_no", "s_school", "s_reason", "s_text", "s_status", "s_item"])
    m = frame.merge(stored, on=["batch_code", "ticket_no"], how="left")
    has = m.s_item.notna().to_numpy()
    same = has & (m.s_reason.to_numpy() == m.reason_type.to_numpy()) & (
        m.s_text.fillna("").to_numpy() == m.reason_text.fillna("").to_numpy())
    ck.flag(has & ~same, "ticket_no",
            lambda i: f"准考证号「{ticket.iat[i]}」已有复核项 #{int(m.s_item.iat[i])}（{m.s_reason.iat[i]}，"
                      f"状态：{m.s_status.iat[i]}），内容不同，不能重复申请")
    result.issues = sorted(ck.issues, key=lambda x: (x.severity != "error", x.row or 0))
    frame["unchanged"] = same
    result.preview = preview_frame(frame.head(20))
    return frame


def _one(n: int, i: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[i] = True
    return mask


def import_review_requests(con, path, actor: str, *, batch: str | None = None, dry_run: bool = False,
                           file_name: str | None = None, db_file: Path | None = None, sheet: str | None = None,
                           isolated: bool = False) -> ReviewImportResult:
    """Import review requests from the platform's export (.xlsx / .csv with 考试批次, 院校代码, 准考证号,
    复核原因, 说明, 提交时间). Same rules as the school's form; any error means nothing is written.
    Re-importing the same file changes nothing."""
    path = Path(path)
    result = ReviewImportResult(kind="reviews", file_name=file_name or path.name, dry_run=dry_run)
    frame = _validate(con, path, result, batch, sheet, isolated)
    if frame is None or not result.ok:
        return result
    todo = frame[~frame["unchanged"]]
    result.unchanged = int(frame["unchanged"].sum())
    result.added = len(todo)
    if dry_run:
        result.requests_created = _new_requests(con, todo)
        return result
    sha = sha256_of(path)
    stored_path = None
    if db_file is not None and len(todo):
        folder = imports_dir(db_file)
        folder.mkdir(parents=True, exist_ok=True)
        stored_path = folder / f"{sha[:16]}_{Path(result.file_name).name}"
        if not stored_path.exists():
            shutil.copyfile(path, stored_path)
    result.sha256 = sha
    with db.transaction(con) as cur:
        import_id = db.next_id(cur, "import_log")
        result.import_id = import_id
        created = 0
        for (b, school), part in todo.sort_values("filed_at").groupby(["batch_code", "school_code"], sort=True):
            items = [ItemInput(r.ticket_no, r.reason_type, r.reason_text if isinstance(r.reason_text, str) else None)
                     for r in part.itertuples()]
            for it, at in zip(items, part["filed_at"]):
                _, ids, new = reviews.add_items(cur, batch=b, school_code=school, items=[it], actor=actor,
                                         at=at.to_pydatetime(), source="import",
                                         note=f"平台导出导入：{result.file_name}")
                created += int(new)
        result.requests_created = created
        batches = sorted(frame["batch_code"].dropna().unique())
        cur.execute(
            "insert into import_log values ($id, 'reviews', $file, $sha, $stored, $batch, $who, $at, $n, $a, 0, $u, 0, 0,"
            " $status)",
            {"id": import_id, "file": result.file_name, "sha": sha, "stored": str(stored_path) if stored_path else None,
             "batch": ",".join(batches) or None, "who": actor, "at": db.now(cur), "n": result.rows_total,
             "a": result.added, "u": result.unchanged, "status": "已写入" if result.added else "无变化"},
        )
        db.audit(cur, actor, "import", f"reviews:{result.file_name}",
                 {"sha256": sha, "added": result.added, "unchanged": result.unchanged,
                  "requests_created": created, "import_id": import_id})
        if result.added:
            db.bump_version(cur)
    result.written = True
    return result


def _new_requests(con, todo: pd.DataFrame) -> int:
    have = {(b, s) for b, s in db.rows(con, "select batch_code, school_code from review_requests")}
    return len({(b, s) for b, s in zip(todo.batch_code, todo.school_code)} - have)
