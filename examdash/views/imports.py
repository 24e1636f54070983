"""导入 (admin): check an upload, report on it, write it, show the history.

The check and the write run in a worker process of their own (views/offload.py), which opens the store
beside the serving process (a DuckLake takes writers from several processes): the serving process
neither parses the file nor holds the write, and other sessions' pages keep running meanwhile."""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from examdash import config
from examdash.importers import ImportResult, Issue, import_file
from examdash.importers.kinds import KINDS
from examdash.views.common import Run

KIND_LABELS = {k: f"{spec.label}（{k}）" for k, spec in KINDS.items()}
HISTORY_COLUMNS = {"import_id": "编号", "imported_at": "时间", "imported_by": "操作人", "kind": "类型", "file_name": "文件",
                   "batch_code": "批次", "rows_total": "行数", "added": "新增", "replaced": "替换", "unchanged": "未变",
                   "rejected": "拒绝", "warnings": "警告", "status": "状态", "sha256": "SHA-256"}


@dataclass
class Upload:
    name: str
    data: bytes


def demo_store_refusal(con) -> str | None:
    """Why this store takes no imports (it has demo accounts with published passwords), or None."""
    from examdash import demo

    return demo.real_data_refusal(con, config.db_path())


def too_large(upload: Upload) -> str | None:
    limit = config.max_upload_mb()
    size = len(upload.data) / 1024 / 1024
    if size > limit:
        return f"{upload.name}：文件 {size:.1f} MB，超过上传上限 {limit} MB（可用 EXAMDASH_MAX_UPLOAD_MB 调整，或用命令行导入）"
    return None


def _run(con, user, upload: Upload, kind: str, batch: str | None, dry_run: bool, progress, sheet: str | None = None,
         confirm: bool = False) -> ImportResult:
    refusal = demo_store_refusal(con)
    if refusal:  # the page says so first; this holds whatever calls in
        result = ImportResult(kind=kind, file_name=upload.name)
        result.issues.append(Issue(None, None, refusal))
        return result
    from examdash.views import offload

    try:
        data = offload.build("import_upload", str(config.db_path()), user.username, upload, kind, batch, dry_run,
                             sheet, confirm, progress=progress, seconds=config.import_seconds())
    except offload.BuildError as exc:
        result = ImportResult(kind=kind, file_name=upload.name)
        result.issues.append(Issue(None, None, f"{upload.name}：导入进程未能完成，数据库未改动。{exc}"))
        return result
    return pickle.loads(data)  # written by our own worker process, just now


def import_in_worker(store: str, actor: str, upload: Upload, kind: str, batch: str | None, dry_run: bool,
                     sheet: str | None, confirm: bool, *, progress) -> bytes:
    """The import, in the worker process (offload.BUILDERS): its own connection to the store. The file
    itself is read in one more child with capped memory and time (isolated=True). The upload is written
    to a temp folder of this process (store/leftovers.py), removed however the import ends; the store's
    import lock is held meanwhile, and an import that ends with an exception (SIGTERM: the server died)
    removes the original it kept, if no other import is under way."""
    from examdash.store import db, leftovers, sweep

    con = db.connect(store)
    folder = None
    try:
        folder = leftovers.owned_folder(leftovers.UPLOAD)
        path = folder / "file" / Path(upload.name).name  # beside the folder's lock, never in its place
        path.parent.mkdir()
        path.write_bytes(upload.data)
        try:
            with sweep.importing(con):
                result = import_file(con, kind, path, batch=batch, actor=actor, dry_run=dry_run, file_name=upload.name,
                                     db_file=config.db_path(store), progress=progress, sheet=sheet, confirm=confirm,
                                     isolated=True)
        except BaseException:
            sweep.after_failed_import(con)
            if leftovers.terminated():  # SIGTERM (the server died): DuckDB reports it as "Query interrupted"
                raise SystemExit(leftovers.EXIT_SIGTERM) from None
            raise
    finally:
        if folder is not None:
            leftovers.release(folder)
        con.close()
    return pickle.dumps(result, protocol=5)


def check(con, user, memo: dict, version: int, upload: Upload, kind: str, batch: str | None, progress,
          sheet: str | None = None) -> ImportResult:
    """Validate and count what would change, writing nothing.

    Kept in `memo` (the session's) for the same bytes, kind, batch, sheet and data `version`, so the
    page's reruns do not re-read a large file.
    """
    key = ("_imports_check", hashlib.sha256(upload.data).hexdigest(), kind, batch, sheet, version)
    if key not in memo:
        if len(memo) > 20:
            memo.clear()
        memo[key] = _run(con, user, upload, kind, batch, True, progress, sheet)
    return memo[key]


def write(con, user, upload: Upload, kind: str, batch: str | None, progress, sheet: str | None = None,
          confirm: bool = False) -> ImportResult:
    """Validate again (the database may have changed since the check) and write in one transaction.
    `confirm`: the user ticked that they checked the impacts on linked data the check showed."""
    return _run(con, user, upload, kind, batch, False, progress, sheet, confirm)


def signature(upload: Upload, kind: str, batch: str | None, sheet: str | None) -> tuple:
    """What an import job is for: these bytes as this kind, batch and sheet."""
    return (hashlib.sha256(upload.data).hexdigest(), upload.name, kind, batch, sheet)


def write_job(con, user, upload: Upload, kind: str, batch: str | None, sheet: str | None, confirm: bool):
    """write() as work for a background job: work(progress) -> ImportResult."""
    return lambda progress: write(con, user, upload, kind, batch, progress, sheet, confirm)


def report(result: ImportResult) -> pd.DataFrame:
    """The validation report as a table (and a download)."""
    rows = [{"级别": "错误" if i.severity == "error" else "警告", "文件": result.file_name,
             "行": "—" if i.row is None else str(i.row), "列": i.column or "—", "问题": i.message}
            for i in result.errors + result.warnings]
    return pd.DataFrame(rows, columns=["级别", "文件", "行", "列", "问题"])


def mapping(result: ImportResult) -> pd.DataFrame:
    rows = [{"文件中的列": h, "识别为": f} for h, f in result.mapping.items()]
    rows += [{"文件中的列": h, "识别为": "（未使用）"} for h in result.unmapped]
    return pd.DataFrame(rows, columns=["文件中的列", "识别为"])


def history(run: Run) -> pd.DataFrame:
    df = run("import_history")
    df["kind"] = df["kind"].map(lambda k: KINDS[k].label if k in KINDS else k)
    return df.rename(columns=HISTORY_COLUMNS)
