"""Import one export file: read, validate everything, then write it in one transaction.

Re-importing the same content changes nothing; a corrected file replaces the rows its keys cover
(scores add a new version instead); every successful import is logged with the file's sha256 and
the original is kept under <db>_imports/.

Beside this module: `kinds` (the registry of import kinds, their keys, fields and header aliases),
`reading` and `isolate` (reading a file, in a child process with limits), `validate` (cell rules),
`links` (what rows hang on the ones a file replaces), `reviews` (review requests, written through the
review workflow). It may import `examdash.config`, the store and the domain; never views, web or cli.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from examdash.config import imports_dir
from examdash.importers import links
from examdash.importers.kinds import KINDS, Checker, Issue, cap_cells, required_present
from examdash.importers.reading import RawTable, ReadError, norm_header, read_table
from examdash.importers.validate import VALIDATORS
from examdash.store import db, private
from examdash.store.sql_files import statement

RESULT_KINDS = {"registrations", "attendance", "scores"}
# Columns of each target table that the file provides (import_id and bookkeeping are added here).
TABLE_COLUMNS = {
    "schools": ["school_code", "school_name", "province", "school_type", "is_pilot"],
    "sites": ["site_code", "site_name", "province", "city", "school_code", "seats"],
    "registrations": ["batch_code", "id_no", "level", "name", "school_code", "site_code", "candidate_type",
                      "registered_at", "ticket_no", "status"],
    "attendance": ["batch_code", "ticket_no", "room", "seat", "status"],
    "scores": ["batch_code", "ticket_no", "id_no", "theory", "practical", "total", "absent", "supplied_passed"],
    "fee-standards": ["province", "level", "effective_date", "amount_fen", "doc_no"],
    "payments": ["bank_ref", "paid_date", "payer", "amount_fen", "remark"],
}


@dataclass
class ImportResult:
    kind: str
    file_name: str
    sha256: str = ""
    rows_total: int = 0
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    issues: list[Issue] = field(default_factory=list)
    header_row: int | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # file header -> field label
    unmapped: list[str] = field(default_factory=list)
    encoding: str | None = None
    sheet: str | None = None  # the worksheet read (None for CSV)
    sheets_matching: list[str] = field(default_factory=list)  # worksheets whose header fits the kind
    import_id: int | None = None
    written: bool = False
    preview: pd.DataFrame | None = None
    dry_run: bool = False
    seconds: dict[str, float] = field(default_factory=dict)  # 读取 / 校验 / 写入 / 提交: where the time went
    fields_in_file: list[str] = field(default_factory=list)  # the kind's fields the file has a column for
    row_numbers: list[int] = field(default_factory=list, repr=False)  # row as the file numbers it, per data row
    impacts: list[str] = field(default_factory=list)  # what writing would do to rows other tables hang on
    needs_confirm: bool = False  # an impact that must be confirmed before the file is written

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rejected(self) -> int:
        return len({i.row for i in self.errors})

    def lines(self, limit: int | None = None) -> list[str]:
        items = self.errors + self.warnings
        shown = items if limit is None else items[:limit]
        out = [("" if i.severity == "error" else "警告 ") + i.line(self.file_name) for i in shown]
        if limit is not None and len(items) > limit:
            out.append(f"……另有 {len(items) - limit} 条未列出")
        return out

    def summary(self) -> str:
        label = KINDS[self.kind].label
        unreadable = [i for i in self.errors if i.row is None]
        if unreadable:  # the file as a whole: say why, not "1 error in 1 row"
            return f"{self.file_name}（{label}）：{unreadable[0].message}。未写入任何数据。"
        if not self.ok:
            return (f"{self.file_name}（{label}）：{len(self.errors)} 个错误、{len(self.warnings)} 个警告，"
                    f"涉及 {self.rejected} 行；未写入任何数据。")
        head = f"{self.file_name}（{label}）：共 {self.rows_total} 行，新增 {self.added}，替换 {self.replaced}，未变 {self.unchanged}"
        if self.warnings:
            head += f"，警告 {len(self.warnings)}"
        if not self.written:
            if self.needs_confirm and not self.dry_run:
                return head + "。未写入：本次导入会改动已关联的数据（见上），请核对后确认导入。"
            return head + "。（仅校验，未写入）"
        if self.added + self.replaced == 0:
            return head + "。数据无变化（同样的内容已导入过）。"
        return head + "。已写入。"


# Columns of the validated frames that are not one of the kind's fields (their labels are the fields').
_DERIVED_LABELS = {"absent": "缺考", "supplied_passed": "是否合格（导出）", "amount_fen": "金额（元）"}


def preview_frame(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The first validated rows as the page shows them: Chinese column labels, money in yuan, yes / no."""
    spec = KINDS[kind]
    names = {f.name: f.label for f in spec.fields}
    out = frame.copy()
    if "amount_fen" in out:
        out["amount_fen"] = out["amount_fen"].map(lambda v: None if pd.isna(v) else f"{int(v) / 100:.2f}")
    for c in out.columns:
        if out[c].dtype == bool or str(out[c].dtype) == "boolean":
            out[c] = out[c].map({True: "是", False: "否"})
    return out.rename(columns=lambda c: names.get(c) or _DERIVED_LABELS.get(c, c))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _copy_aside(path: Path, part: Path) -> Path | OSError:
    """The file copied to `part`, or the error, which matters only if the import goes on to write."""
    try:
        private.private_dir(part.parent)  # the originals hold personal data: 0700 (files 0600 by the umask)
        shutil.copyfile(path, part)
    except OSError as exc:
        part.unlink(missing_ok=True)
        return exc
    return part


def _discard(keep) -> None:
    copied = keep.result() if keep is not None else None
    if isinstance(copied, Path):
        copied.unlink(missing_ok=True)


def _silent(fraction: float, text: str) -> None:
    return None


class _NotWritten(Exception):
    """Raised inside the write transaction to roll it back: the staged rows were refused or need a confirmation."""


def _keep(copied: Path, result: ImportResult) -> Path:
    """The original under its content-addressed name (one copy per content)."""
    stored = copied.parent / f"{result.sha256[:16]}_{Path(result.file_name).name}"
    if stored.exists():
        copied.unlink()
    else:
        os.replace(copied, stored)
    return stored


def validate_file(con, kind: str, path: Path, *, batch: str | None = None, file_name: str | None = None,
                  progress=_silent, sheet: str | None = None, isolated: bool = False):
    """Read and validate without writing. Returns (result, typed frame or None).

    progress(fraction, text) is told how far the work has come (the import page draws a bar).
    isolated reads the file in a child process with memory and time limits (uploads: isolate.py).
    """
    spec = KINDS[kind]
    progress(0.05, "读取文件")
    path = Path(path)
    result = ImportResult(kind=kind, file_name=file_name or path.name)
    started = time.perf_counter()
    try:
        # hashlib lets go of the GIL: the hash is taken while the file is parsed.
        with ThreadPoolExecutor(max_workers=1) as pool:
            sha = pool.submit(sha256_of, path)
            if isolated:
                from examdash.importers import isolate

                raw: RawTable = isolate.read_table(path, spec.alias_map, spec.required, sheet)
            else:
                raw = read_table(path, spec.alias_map, spec.required, sheet=sheet)
            result.sha256 = sha.result()
    except ReadError as exc:
        result.issues.append(Issue(None, None, str(exc)))
        return result, None
    result.seconds["读取"] = time.perf_counter() - started
    progress(0.35, f"校验 {len(raw.row_numbers):,} 行")
    result.header_row = raw.header_row
    result.encoding = raw.encoding
    result.unmapped = raw.unmapped
    result.fields_in_file = sorted(raw.columns)
    result.row_numbers = raw.row_numbers
    headers = {}
    for h in raw.headers:
        f = spec.alias_map.get(norm_header(h))
        if f and f not in headers:
            headers[f] = h
    result.mapping = {h: spec.label_of(f) for f, h in headers.items()}
    n = len(raw.row_numbers)
    result.rows_total = n
    ck = Checker(spec, raw.row_numbers, headers, raw.header_row)
    result.sheet = raw.sheet
    result.sheets_matching = raw.sheets_matching
    if sheet is None and len(raw.sheets_matching) > 1:
        ck.issues.append(Issue(None, None, (
            f"工作簿中有多张表符合：{'、'.join(raw.sheets_matching)}；已使用「{raw.sheet}」"
            "（导入页可选择工作表，命令行用 --sheet）"), "warning"))
    for row, text in raw.footer_rows:
        ck.issues.append(Issue(row, None, f"表格末尾的「{text}」不是数据行（合计、签名或导出信息），已跳过", "warning"))
    missing = [f.label for f in spec.fields if f.required and f.name not in raw.columns and f.name != "batch_code"]
    if missing:
        ck.issues.append(Issue(raw.header_row, "、".join(missing),
                               f"缺少必需的列：{'、'.join(missing)}（第 {raw.header_row} 行被识别为表头）"))
        result.issues = ck.issues
        return result, None
    if n == 0:
        ck.file_error("表头下面没有数据行")
        result.issues = ck.issues
        return result, None
    cap_cells(ck, raw.columns)
    required_present(ck, raw.columns, n)
    frame = VALIDATORS[kind](con, ck, raw.columns, n, batch)
    result.issues = sorted(ck.issues, key=lambda i: (i.severity != "error", i.row or 0))
    result.preview = preview_frame(kind, frame.head(20))
    result.seconds["校验"] = time.perf_counter() - started - result.seconds["读取"]
    return result, frame


def import_file(
    con,
    kind: str,
    path: str | Path,
    *,
    batch: str | None = None,
    actor: str = "cli",
    dry_run: bool = False,
    file_name: str | None = None,
    db_file: Path | None = None,
    progress=_silent,
    confirm: bool = False,
    sheet: str | None = None,
    isolated: bool = False,
) -> ImportResult:
    """Validate a file and write it in one transaction (or, with dry_run, only say what would change).

    A file whose rows would change data that other tables hang on (see links.py) is written only with
    confirm=True, after the caller has shown result.impacts; without it the result says so and nothing
    is written.
    """
    if kind not in KINDS:
        raise ValueError(f"未知的导入类型 {kind!r}；可选：{', '.join(KINDS)}")
    if kind == "reviews":  # rows become items of the schools' requests: the review workflow writes them
        from examdash.importers import reviews

        return reviews.import_review_requests(con, path, actor, batch=batch, dry_run=dry_run, file_name=file_name,
                                              db_file=db_file, sheet=sheet, isolated=isolated)
    path = Path(path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The original is copied aside (in the kernel, without the GIL) while the file is validated.
        keep = None
        if db_file is not None and not dry_run:
            part = imports_dir(db_file) / f".{time.time_ns()}_{Path(file_name or path.name).name}.part"
            keep = pool.submit(_copy_aside, path, part)
        try:
            result, frame = validate_file(con, kind, path, batch=batch, file_name=file_name, progress=progress,
                                          sheet=sheet, isolated=isolated)
        except BaseException:
            _discard(keep)
            raise
        if not result.ok:
            _discard(keep)  # nothing is written, so nothing is kept
            keep = None
        copied = keep.result() if keep is not None else None
    result.dry_run = dry_run
    if not result.ok or dry_run:
        if dry_run and result.ok:
            progress(0.7, "比对已有数据")
            _count_changes_only(con, kind, frame, result)
        progress(1.0, "校验完成")
        return result
    progress(0.6, "写入数据库")
    started = time.perf_counter()
    if isinstance(copied, OSError):
        raise copied
    try:
        with db.transaction(con) as cur:
            _review(cur, kind, frame, result)
            if not result.ok or (result.needs_confirm and not confirm):
                raise _NotWritten
            stored = _keep(copied, result) if copied is not None else None
            import_id = db.next_id(cur, "import_log")
            result.import_id = import_id
            _write(cur, kind, result, actor, import_id)
            if kind == "attendance":  # a sheet without rooms takes them from the site's room arrangement
                cur.execute(statement("attendance_rooms"), {"import_id": import_id})
            batch_codes = sorted(frame["batch_code"].dropna().unique()) if "batch_code" in frame else []
            cur.execute(
                "insert into import_log values ($id, $kind, $file, $sha, $stored, $batch, $who, $at, $n, $a, $r, $u, 0, $w, $status)",
                {
                    "id": import_id, "kind": kind, "file": result.file_name, "sha": result.sha256,
                    "stored": str(stored) if stored else None, "batch": ",".join(batch_codes) or None,
                    "who": actor, "at": db.now(cur), "n": result.rows_total, "a": result.added, "r": result.replaced,
                    "u": result.unchanged, "w": len(result.warnings),
                    "status": "已写入" if result.added + result.replaced else "无变化",
                },
            )
            if result.added + result.replaced:
                if kind in RESULT_KINDS:
                    db.rebuild_results(cur, batch_codes)
                elif kind == "schools":
                    db.rebuild_results(cur, [r[0] for r in cur.execute("select distinct batch_code from results").fetchall()])
                if kind == "payments":
                    from examdash.domain import fees

                    fees.match_payments(cur, actor)
                db.bump_version(cur)
            db.audit(cur, actor, "import", f"{kind}:{result.file_name}",
                     {"sha256": result.sha256, "added": result.added, "replaced": result.replaced,
                      "unchanged": result.unchanged, "import_id": result.import_id, "impacts": result.impacts})
            result.seconds["写入"] = time.perf_counter() - started
    except _NotWritten:
        if copied is not None:
            copied.unlink(missing_ok=True)
        progress(1.0, "未写入")
        return result
    result.seconds["提交"] = time.perf_counter() - started - result.seconds["写入"]
    result.written = True
    progress(1.0, "导入完成")
    return result


def _compare_sql(kind: str, absent: list[str]) -> tuple[str, str]:
    """SQL of the temp table _cmp: each staged row as it would be written, its change label (added /
    replaced / unchanged), its position in the file (_pos) and the stored values (_old_<column>).

    Columns the file lacks are kept or derived as links.py says. Identifiers come from TABLE_COLUMNS
    and KINDS (an allowlist), never from the file.
    """
    spec = KINDS[kind]
    cols = TABLE_COLUMNS[kind]
    key = spec.key
    values = [c for c in cols if c not in key]
    if kind == "scores":
        # Compare with the latest imported version: re-importing the original export after a
        # review correction must not undo the correction.
        target = ("(select * from score_versions where source = 'import' "
                  "qualify row_number() over (partition by batch_code, ticket_no order by version desc) = 1)")
    else:
        target = spec.table
    on = " and ".join(f"t.{k} = s.{k}" for k in key)
    kept = set(links.kept_columns(kind, absent))
    same = " and ".join(f"t.{c} is not distinct from s.{c}" for c in links.compared_columns(kind, cols, absent))
    written = [f"case when t.{key[0]} is null then s.{c} else t.{c} end as {c}" if c in kept else f"s.{c}" for c in values]
    select = ", ".join([f"s.{k}" for k in key] + written + ["s._pos"] + [f"t.{c} as _old_{c}" for c in values])
    sql = (f"create or replace temp table _cmp as select {select}, case when t.{key[0]} is null then 'added' "
           f"when {same or 'true'} then 'unchanged' else 'replaced' end as _change from _stage s left join {target} t on {on}")
    return sql, on


def _stage(cur, kind: str, frame: pd.DataFrame, absent: list[str]) -> None:
    """The validated frame as the temp table _stage, typed like the target table, and _cmp beside it.

    Tables, each made once by one CREATE TABLE AS: every later statement (the counts, the link checks,
    the write) reads them instead of converting the Python frame and joining the stored rows again
    (1M rows: the write phase 5.7 s with views, measured in bench/import_bench.py).
    """
    cols = TABLE_COLUMNS[kind]
    types = dict(cur.execute(
        "select column_name, data_type from duckdb_columns() where schema_name = 'main' and table_name = $t",
        {"t": KINDS[kind].table},
    ).fetchall())
    db.register(cur, "_frame", frame[cols].assign(_pos=np.arange(len(frame), dtype=np.int64)))
    select = ", ".join(f'cast("{c}" as {types[c]}) as "{c}"' for c in cols)
    stage = f"create or replace temp table _stage as select {select}, _pos from _frame"  # identifiers: TABLE_COLUMNS
    cur.execute(stage)
    cur.unregister("_frame")
    cur.execute(_compare_sql(kind, absent)[0])


def _counts(cur, result: ImportResult) -> None:
    rows = dict(cur.execute("select _change, count(*)::bigint from _cmp group by all").fetchall())
    result.added, result.replaced, result.unchanged = (int(rows.get(k, 0)) for k in ("added", "replaced", "unchanged"))


def _review(cur, kind: str, frame: pd.DataFrame, result: ImportResult) -> list[str]:
    """Stage the frame, count what would change, and check it against the rows other tables hang on:
    errors for lost links, the impacts to confirm, a warning per column kept as stored. Returns the
    file's absent columns."""
    absent = links.absent_columns(kind, TABLE_COLUMNS[kind], result.fields_in_file)
    _stage(cur, kind, frame, absent)
    _counts(cur, result)
    found = links.review(cur, kind, absent, result.replaced)
    header_of = {label: header for header, label in result.mapping.items()}
    for pos, label, text in found.errors:
        row = result.row_numbers[pos] if pos is not None else result.header_row
        result.issues.append(Issue(row, header_of.get(label, label), text))
    result.impacts, result.needs_confirm = found.impacts, found.needs_confirm
    spec = KINDS[kind]
    stored = result.replaced + result.unchanged
    for c in links.kept_columns(kind, absent):
        if stored:
            label = spec.label_of(links.SOURCE.get((kind, c), c))
            result.issues.append(Issue(result.header_row, label, f"文件没有「{label}」列：{stored:,} 条已有{spec.label}记录的"
                                                                 f"{label}保持不变", "warning"))
    result.issues.sort(key=lambda i: (i.severity != "error", i.row or 0))
    return absent


def _count_changes_only(con, kind, frame, result) -> None:
    cur = con.cursor()
    try:
        _review(cur, kind, frame, result)
    finally:
        cur.close()


def _write(cur, kind: str, result: ImportResult, actor: str, import_id: int) -> None:
    """Write the rows _review staged (inside its transaction)."""
    spec = KINDS[kind]
    cols = TABLE_COLUMNS[kind]
    if result.added + result.replaced == 0:
        return
    collist = ", ".join(cols)
    if kind == "scores":
        cur.execute(
            "insert into score_versions (" + collist + ", version, source, created_by, created_at, import_id) "
            "select " + ", ".join(f"c.{c}" for c in cols) + ", coalesce(v.version, 0) + 1, 'import', $who, $at, $id "
            "from _cmp c left join (select batch_code, ticket_no, max(version) as version from score_versions "
            "group by all) v on v.batch_code = c.batch_code and v.ticket_no = c.ticket_no "
            "where c._change <> 'unchanged'",
            {"who": actor, "at": db.now(cur), "id": import_id},
        )
        return
    if not result.replaced:
        # A file of new rows needs no comparison.
        source = "_cmp where _change <> 'unchanged'" if result.unchanged else "_stage"
        insert = f"insert into {spec.table} ({collist}, import_id) select {collist}, $id from {source}"
        cur.execute(insert, {"id": import_id})
        return
    if kind == "registrations":
        links.relink_tickets(cur)  # while _cmp still sees the stored tickets
    # _cmp holds the stored rows' values (kept columns, old values) as they were before the delete.
    cur.execute("create or replace temp table _changed as select * from _cmp where _change <> 'unchanged'")
    on = _compare_sql(kind, [])[1]
    delete = f"delete from {spec.table} t using _changed s where {on} and s._change = 'replaced'"
    cur.execute(delete)
    insert = f"insert into {spec.table} ({collist}, import_id) select {collist}, $id from _changed"
    cur.execute(insert, {"id": import_id})
    cur.execute("drop table _changed")
