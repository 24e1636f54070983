"""证书 (staff) and 本校证书 (a school leader): the certificate list (证书名单) of each school and batch,
offered once its certificates can be issued (window over, no open review items, both sign-offs), and the
paper certificates schools ask for, with the totals staff see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from examdash.domain import certificates
from examdash.views import exports
from examdash.views.common import Run, display_table

LIST_COLUMNS = ["batch_code", "ticket_no", "name", "id_no", "level", "school_code", "school_name", "candidate_type",
                "theory", "practical", "total", "certificate_status"]
LABELS = {"certificate_status": "证书状态", "copies": "纸质证书数量", "note": "备注", "requested_by": "登记人",
          "requested_at": "登记时间", "status_text": "证书状态", "passed": "合格人数"}


def _list_table(raw: pd.DataFrame) -> pd.DataFrame:
    out = raw.assign(certificate_status=raw.certificate_status.where(~raw.can_issue.astype(bool), "可颁发"))
    return display_table(out, LIST_COLUMNS).rename(columns=LABELS)


def _paper_table(raw: pd.DataFrame) -> pd.DataFrame:
    out = raw.assign(copies=raw.copies.astype("Int64"),
                     requested_at=pd.to_datetime(raw.requested_at).dt.strftime("%Y-%m-%d %H:%M"))
    cols = ["school_code", "school_name", "province", "passed", "status_text", "copies", "note", "requested_by",
            "requested_at"]
    return display_table(out, cols).rename(columns={**LABELS, "合格": "合格人数"})


@dataclass
class StaffCertificates:
    metrics: list[tuple[str, str, str]]
    schools: pd.DataFrame  # the paper_certificates rows (school_code, school_name, can_issue, …)
    table: pd.DataFrame  # per school: status, passed, paper copies asked for
    ready: list[str]  # schools whose certificates can be issued, in code order


def build(run: Run, batch: str, today: dt.date) -> StaffCertificates:
    raw = run("paper_certificates", batch=batch, today=today)
    ready = sorted(raw.school_code[raw.can_issue.astype(bool)])
    asked = raw[raw.copies.notna()]
    metrics = [
        ("可颁发证书院校", f"{len(ready):,} / {len(raw):,}", "公示期已过、无未结复核、培训评价组织与学校均已签发"),
        ("可颁发证书人数", f"{int(raw.passed[raw.can_issue.astype(bool)].sum()):,}",
         f"这些院校的合格人数；全部院校合格 {int(raw.passed.sum()):,} 人"),
        ("纸质证书（份）", f"{int(asked.copies.sum()):,}", f"{len(asked):,} 所院校已登记（各校最近一次登记）"),
        ("未登记纸质证书院校", f"{len(raw) - len(asked):,}", "尚未登记所需纸质证书数量的院校"),
    ]
    return StaffCertificates(metrics, raw, _paper_table(raw), ready)


def certificate_list(run: Run, batch: str, today: dt.date, school: str | None) -> pd.DataFrame:
    """The 证书名单 of one school (or of every school, school None) in full: only schools whose certificates
    can be issued are listed."""
    raw = run("certificate_list", batch=batch, today=today, school=school)
    return _list_table(raw[raw.can_issue.astype(bool)])


def list_files(table: pd.DataFrame, batch: str, who: str) -> dict:
    return exports.table_files(table, "证书名单", f"{batch}_{who}", "证书名单")


@dataclass
class SchoolCertificates:
    status: str  # the school's certificate status in words
    can_issue: bool
    passed: int
    table: pd.DataFrame  # the list, empty until the certificates can be issued
    can_request: bool  # the paper form is open (after the publicity window)
    request_text: str
    current: str  # the latest paper request in words


def school_build(run: Run, user, batch: str, today: dt.date) -> SchoolCertificates:
    papers = run("paper_certificates", batch=batch, today=today)
    if papers.empty:
        return SchoolCertificates(f"本校在 {batch} 批次没有考生。", False, 0, pd.DataFrame(), False,
                                  "本校在该批次没有考生。", "未登记")
    row = papers.iloc[0]
    can_issue = bool(row.can_issue)
    table = certificate_list(run, batch, today, user.school_code) if can_issue else pd.DataFrame()
    batch_row = run("batches")
    batch_row = batch_row[batch_row.batch_code == batch].iloc[0]
    end = pd.Timestamp(batch_row.publicity_end).date()
    can_request = today > end
    request_text = ("请登记本校需要的纸质证书份数（0 到本校合格人数），可随时改登，以最近一次为准。" if can_request
                    else f"成绩公示期 {end:%Y-%m-%d} 结束后方可登记纸质证书数量。")
    current = ("未登记" if pd.isna(row.copies) else
               f"{int(row.copies):,} 份（{row.requested_by}，{pd.Timestamp(row.requested_at):%Y-%m-%d %H:%M}）")
    return SchoolCertificates(str(row.status_text), can_issue, int(row.passed), table, can_request, request_text, current)


def request_paper(con, user, batch: str, copies, note: str | None) -> tuple[bool, str]:
    if copies is None:
        return False, "请填写纸质证书数量"
    try:
        certificates.request_paper(con, user, batch, copies, note)
    except certificates.CertificateError as exc:
        return False, str(exc)
    return True, f"已登记：本校 {batch} 批次需要纸质证书 {int(copies):,} 份"
