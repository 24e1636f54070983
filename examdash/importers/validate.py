"""Per-kind validation: raw text columns in, a typed frame shaped like the target table out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from examdash.domain import rules
from examdash.domain.money import yuan_to_fen
from examdash.importers.kinds import (
    ABSENT_WORDS,
    ATTENDANCE_ALIASES,
    LEVEL_ALIASES,
    NON_ASCII_BYTE,
    PROVINCE_ALIASES,
    STATUS_ALIASES,
    TYPE_ALIASES,
    YES_NO,
    Checker,
    byte_classes,
    check_ids,
    clean_code,
    duplicate_keys,
    first_duplicates,
    half_width,
    map_dict,
    map_values,
    normalise_ids,
    parse_dates,
    present,
)
from examdash.importers.reading import SPACE_RUN
from examdash.store import db

SCHOOL_TYPES = {"本科": "本科", "高职": "高职", "高职专科": "高职", "专科": "高职", "高等职业": "高职",
                "中职": "中职", "中专": "中职", "中等职业": "中职", "技工": "中职"}


def _lookup(con, sql: str, params: dict | None = None) -> pd.DataFrame:
    cur = con.cursor()
    try:
        return cur.execute(sql, params or {}).df()
    finally:
        cur.close()


def _col(cols, f, n) -> pd.Series:
    s = cols.get(f)  # not cols.get(f, default): building the default costs ~0.1 s per million rows
    return s if s is not None else pd.Series([None] * n, dtype="str")


def _map_text(s: pd.Series, mapping: dict) -> pd.Series:
    """s.map(lambda v: mapping.get(v) if isinstance(v, str) else None), without a call per row."""
    out = map_dict(s, mapping)
    if len(out) and out.isna().all():
        return pd.Series([None] * len(s), index=s.index, dtype=object)  # what the lambda gave
    return out


def _code_or_name(code: pd.Series, name: pd.Series, by_name: dict) -> pd.Series:
    """The code where the file gives one, else the code the name stands for (missing if unknown)."""
    if not (~present(code) & present(name)).any():
        return code
    return code.where(present(code), _map_text(name, by_name))


def batch_column(con, ck: Checker, cols, n, batch: str | None) -> pd.Series:
    known = _lookup(con, "select batch_code, batch_name from batches")
    names = {**dict(zip(known.batch_name, known.batch_code)), **{c: c for c in known.batch_code}}
    if "batch_code" in cols:
        raw = cols["batch_code"]
        found = byte_classes(raw)
        if found is None or found & NON_ASCII_BYTE:  # 2023－1 typed in full width
            raw = half_width(raw)[0]
        raw = raw.str.strip()
        if batch is not None:
            raw = raw.fillna(batch)
        out = _map_text(raw, names)
        ck.flag(present(raw) & out.isna().to_numpy(), "batch_code",
                lambda i: f"考试批次「{raw.iat[i]}」不在考试计划中（已有：{'、'.join(known.batch_code)}）")
        ck.flag(~present(raw), "batch_code", "考试批次不能为空（或用 --batch 指定）")
        if batch is not None:
            ck.flag(present(out) & (out != batch).fillna(False).to_numpy(), "batch_code",
                    lambda i: f"考试批次「{out.iat[i]}」与指定的 --batch {batch} 不一致")
        return out
    if batch is None:
        ck.file_error("文件没有「考试批次」列：请指定批次（命令行 --batch，或在导入页选择）", "batch_code")
        return pd.Series([None] * n, dtype="str")
    if batch not in names.values():
        ck.file_error(f"批次 {batch} 不在考试计划中（已有：{'、'.join(known.batch_code)}）", "batch_code")
    return pd.Series([batch] * n, dtype="str")


def schools(con, ck: Checker, cols, n, batch):
    code = clean_code(cols["school_code"], ck, "school_code")
    out = pd.DataFrame({
        "school_code": code,
        "school_name": cols["school_name"],
        "province": map_values(ck, cols["province"], "province", PROVINCE_ALIASES, "省份", "31 个省级行政区之一（如 广东省 或 广东）"),
        "school_type": map_values(ck, _col(cols, "school_type", n), "school_type", SCHOOL_TYPES, "院校类型", "本科、高职或中职"),
        "is_pilot": map_values(ck, _col(cols, "is_pilot", n), "is_pilot", YES_NO, "是否试点", "是 或 否").fillna(False).astype(bool),
    })
    duplicate_keys(ck, out, ["school_code"])
    return out


def sites(con, ck: Checker, cols, n, batch):
    code = clean_code(cols["site_code"], ck, "site_code")
    school = clean_code(_col(cols, "school_code", n), ck, "school_code")
    known = set(_lookup(con, "select school_code from schools").school_code)
    ck.flag(present(school) & ~school.isin(known).to_numpy(), "school_code",
            lambda i: f"院校代码「{school.iat[i]}」不存在：请先导入院校")
    seats = pd.to_numeric(_col(cols, "seats", n), errors="coerce")
    raw_seats = _col(cols, "seats", n)
    ck.flag(present(raw_seats) & ~((seats >= 0) & (seats == seats.round())).fillna(False).to_numpy(), "seats",
            lambda i: f"机位数「{raw_seats.iat[i]}」应为非负整数")
    out = pd.DataFrame({
        "site_code": code,
        "site_name": cols["site_name"],
        "province": map_values(ck, cols["province"], "province", PROVINCE_ALIASES, "省份", "31 个省级行政区之一"),
        "city": _col(cols, "city", n),
        "school_code": school,
        "seats": seats.astype("Int64"),
    })
    duplicate_keys(ck, out, ["site_code"])
    return out


def registrations(con, ck: Checker, cols, n, batch):
    b = batch_column(con, ck, cols, n, batch)
    ids = normalise_ids(cols["id_no"], ck, "id_no")
    check_ids(ck, ids, "id_no")
    level = map_values(ck, cols["level"], "level", LEVEL_ALIASES, "级别", "初级 或 中级")
    ctype = map_values(ck, _col(cols, "candidate_type", n), "candidate_type", TYPE_ALIASES, "考生类型", "在校生 或 社会考生").fillna("在校生")
    status = map_values(ck, _col(cols, "status", n), "status", STATUS_ALIASES, "报名状态", "正常 或 已取消").fillna("正常")

    site_tab = _lookup(con, "select site_code, site_name, school_code from sites")
    site_code = clean_code(_col(cols, "site_code", n), ck, "site_code")
    site_name = _col(cols, "site_name", n)
    site = _code_or_name(site_code, site_name, dict(zip(site_tab.site_name, site_tab.site_code)))
    known_sites = set(site_tab.site_code)
    ck.flag(~present(site_code) & ~present(site_name), "site_code", "考点代码和考点名称至少填一项")
    ck.flag(present(site_code) & ~site_code.isin(known_sites).to_numpy(), "site_code",
            lambda i: f"考点代码「{site_code.iat[i]}」不存在：请先导入考点")
    ck.flag(~present(site_code) & present(site_name) & site.isna().to_numpy(), "site_name",
            lambda i: f"考点名称「{site_name.iat[i]}」不存在：请先导入考点")

    school_tab = _lookup(con, "select school_code, school_name from schools")
    sc_code = clean_code(_col(cols, "school_code", n), ck, "school_code")
    sc_name = _col(cols, "school_name", n)
    school = _code_or_name(sc_code, sc_name, dict(zip(school_tab.school_name, school_tab.school_code)))
    social = (ctype == "社会考生").to_numpy()
    # Social candidates are registered and paid for by the school that runs their site.
    if (social & ~present(school)).any():
        site_school = map_dict(site, dict(zip(site_tab.site_code, site_tab.school_code)))
        school = school.where(present(school) | ~social, site_school)
    ck.flag(present(sc_code) & ~sc_code.isin(set(school_tab.school_code)).to_numpy(), "school_code",
            lambda i: f"院校代码「{sc_code.iat[i]}」不存在：请先导入院校")
    ck.flag(~present(sc_code) & present(sc_name) & ~present(school), "school_name",
            lambda i: f"院校名称「{sc_name.iat[i]}」不存在：请先导入院校")
    ck.flag(~present(sc_code) & ~present(sc_name) & ~social, "school_code", "在校生须填写院校代码或院校名称")

    when = parse_dates(ck, _col(cols, "registered_at", n), "registered_at", with_time=True)
    deadlines = _lookup(con, "select batch_code, reg_deadline from batches where reg_deadline is not null")
    late = np.zeros(n, dtype=bool)
    deadline_of = {}
    for code, deadline in zip(deadlines.batch_code, pd.to_datetime(deadlines.reg_deadline)):
        late_here = (b == code).fillna(False).to_numpy() & (when >= deadline + pd.Timedelta(days=1)).to_numpy()
        if late_here.any():
            late |= late_here
            deadline_of[code] = deadline
    ck.flag(late, "registered_at",
            lambda i: f"报名时间 {when.iat[i]:%Y-%m-%d %H:%M} 晚于报名截止日 {deadline_of[b.iat[i]]:%Y-%m-%d}", "warning")

    ticket = clean_code(_col(cols, "ticket_no", n), ck, "ticket_no")
    out = pd.DataFrame({
        "batch_code": b, "id_no": ids, "level": level, "name": cols["name"].str.replace(SPACE_RUN, "", regex=True),
        "school_code": school, "site_code": site, "candidate_type": ctype, "registered_at": when,
        "ticket_no": ticket, "status": status,
    })
    duplicate_keys(ck, out, ["batch_code", "id_no", "level"])
    has_ticket = present(ticket)
    mask = np.zeros(n, dtype=bool)
    if has_ticket.all():
        mask = first_duplicates(out, ["batch_code", "ticket_no"])
    elif has_ticket.any():
        rows = np.flatnonzero(has_ticket)
        mask[rows[first_duplicates(out.take(rows), ["batch_code", "ticket_no"])]] = True
    ck.flag(mask, "ticket_no", lambda i: f"准考证号「{ticket.iat[i]}」在文件中出现多次")
    _ticket_taken(con, ck, out, ticket)
    return out


def _ticket_taken(con, ck: Checker, out: pd.DataFrame, ticket: pd.Series) -> None:
    """A ticket already held by another stored candidate (one this file does not cover) is an error."""
    mine = out[["batch_code", "ticket_no", "id_no", "level"]].assign(idx=np.arange(len(out)))
    mine = mine[present(mine["ticket_no"])]
    if mine.empty or not _lookup(
        con, "select 1 from registrations where ticket_no is not null and list_contains($b, batch_code) limit 1",
        {"b": sorted({x for x in mine["batch_code"].dropna().unique()})},
    ).shape[0]:
        return  # no stored ticket in these batches to clash with
    cur = con.cursor()
    try:
        db.register(cur, "_tickets", mine)
        clash = cur.execute(
            "select m.idx from _tickets m join registrations r on r.batch_code = m.batch_code and r.ticket_no = m.ticket_no "
            "where (r.id_no <> m.id_no or r.level <> m.level) and not exists (select 1 from _tickets c "
            "where c.batch_code = r.batch_code and c.id_no = r.id_no and c.level = r.level)"
        ).fetchall()
        cur.unregister("_tickets")
    finally:
        cur.close()
    mask = np.zeros(len(out), dtype=bool)
    mask[[r[0] for r in clash]] = True
    ck.flag(mask, "ticket_no", lambda i: f"准考证号「{ticket.iat[i]}」已分配给本批次的另一名考生")


def _registered(con, batches) -> pd.DataFrame:
    return _lookup(
        con,
        "select batch_code, ticket_no, id_no from registrations where ticket_no is not null and list_contains($b, batch_code)",
        {"b": sorted({x for x in batches if isinstance(x, str)})},
    )


def _check_tickets(con, ck: Checker, b: pd.Series, ticket: pd.Series) -> pd.DataFrame:
    reg = _registered(con, b.dropna().unique())
    keys = pd.DataFrame({"batch_code": b, "ticket_no": ticket})
    merged = keys.merge(reg, on=["batch_code", "ticket_no"], how="left")
    unknown = present(ticket) & present(b) & merged.id_no.isna().to_numpy()
    ck.flag(unknown, "ticket_no", lambda i: f"准考证号「{ticket.iat[i]}」在批次 {b.iat[i]} 中没有报名记录")
    return merged


def _after_exam(con, ck: Checker, b: pd.Series, what: str) -> None:
    """Sign-ins and scores exist only once a batch has been sat: refused before its exam day (the app's
    clock, which the demo pins), with the exam date in the message."""
    today = db.today(con)
    dates = _lookup(con, "select batch_code, exam_date from batches where exam_date > $d", {"d": today})
    for code, exam in zip(dates.batch_code, pd.to_datetime(dates.exam_date).dt.date):
        if (b == code).any():
            ck.file_error(f"{code} 批次的考试日为 {exam:%Y-%m-%d}，今天（{today:%Y-%m-%d}）尚未考试：不能导入{what}；"
                          "请核对考试批次，或在考试后再导入", "batch_code")


def attendance(con, ck: Checker, cols, n, batch):
    b = batch_column(con, ck, cols, n, batch)
    _after_exam(con, ck, b, "签到表")
    ticket = clean_code(cols["ticket_no"], ck, "ticket_no")
    _check_tickets(con, ck, b, ticket)
    out = pd.DataFrame({
        "batch_code": b, "ticket_no": ticket, "room": _col(cols, "room", n), "seat": _col(cols, "seat", n),
        "status": map_values(ck, cols["status"], "status", ATTENDANCE_ALIASES, "签到状态", "已签到、缺考或违纪"),
    })
    duplicate_keys(ck, out, ["batch_code", "ticket_no"])
    return out


def _score(ck: Checker, raw: pd.Series, f: str) -> tuple[pd.Series, np.ndarray]:
    absent = raw.isin(ABSENT_WORDS).to_numpy()
    num = pd.to_numeric(raw.where(~absent), errors="coerce")
    bad = present(raw) & ~absent & ~((num >= 0) & (num <= 100)).fillna(False).to_numpy()
    ck.flag(bad, f, lambda i: f"成绩「{raw.iat[i]}」应为 0-100 之间的数字（缺考请写“缺考”）")
    return num.round(1), absent


def scores(con, ck: Checker, cols, n, batch):
    b = batch_column(con, ck, cols, n, batch)
    _after_exam(con, ck, b, "成绩")
    ticket = clean_code(cols["ticket_no"], ck, "ticket_no")
    merged = _check_tickets(con, ck, b, ticket)
    ids = normalise_ids(_col(cols, "id_no", n), ck, "id_no")
    check_ids(ck, ids, "id_no")
    mismatch = present(ids) & merged.id_no.notna().to_numpy() & (ids != merged.id_no).fillna(False).to_numpy()
    ck.flag(mismatch, "id_no", lambda i: f"身份证号与准考证号「{ticket.iat[i]}」的报名记录不一致")
    theory, a1 = _score(ck, cols["theory"], "theory")
    practical, a2 = _score(ck, cols["practical"], "practical")
    total_raw = _col(cols, "total", n)
    total, a3 = _score(ck, total_raw, "total")
    absent = a1 | a2 | a3
    total = total.where(present(total_raw), rules.weighted(theory, practical).round(1))
    passed_raw = _col(cols, "passed", n)
    passed = map_values(ck, passed_raw, "passed", YES_NO, "是否合格", "合格 或 不合格")
    _flag_verdicts(con, ck, b, merged, theory, practical, absent, passed)
    out = pd.DataFrame({
        "batch_code": b, "ticket_no": ticket,
        "id_no": ids.where(present(ids), merged.id_no),
        "theory": theory.where(~absent), "practical": practical.where(~absent), "total": total.where(~absent),
        "absent": absent, "supplied_passed": passed.astype("boolean"),
    })
    duplicate_keys(ck, out, ["batch_code", "ticket_no"])
    return out


def _money(ck: Checker, raw: pd.Series, n: int) -> pd.Series:
    fen = []
    bad = np.zeros(n, dtype=bool)
    for i, v in enumerate(raw):
        try:
            fen.append(yuan_to_fen(v) if isinstance(v, str) else None)
        except ValueError:
            fen.append(None)
            bad[i] = True
    ck.flag(bad, "amount", lambda i: f"金额「{raw.iat[i]}」不是有效金额（元，最多两位小数）")
    return pd.Series(fen, dtype="Int64")


def _flag_verdicts(con, ck, b, merged, theory, practical, absent, passed) -> None:
    """A supplied 是否合格 that disagrees with the batch's pass rule is flagged, not trusted."""
    batch_rules = _lookup(con, "select batch_code, level, rule from pass_rules")
    levels = _lookup(
        con, "select r.batch_code, r.ticket_no, r.level, a.status = '违纪' as violated from registrations r "
        "left join attendance a on a.batch_code = r.batch_code and a.ticket_no = r.ticket_no "
        "where r.ticket_no is not null and list_contains($b, r.batch_code)",
        {"b": sorted({x for x in b.dropna().unique()})},
    )
    keyed = merged[["batch_code", "ticket_no"]].merge(levels, on=["batch_code", "ticket_no"], how="left").merge(
        batch_rules, on=["batch_code", "level"], how="left")
    weighted = (keyed.rule == "weighted").to_numpy()
    mark = float(rules.PASS_MARK)
    computed = np.where(weighted, (rules.weighted(theory, practical) >= mark).to_numpy(),
                        ((theory >= mark) & (practical >= mark)).to_numpy()) & ~absent & ~keyed.violated.fillna(False).astype(bool).to_numpy()
    known = present(passed) & ~(theory.isna() | practical.isna()).to_numpy() | absent & present(passed)
    disagree = known & (passed.fillna(False).astype(bool).to_numpy() != computed)
    ck.flag(disagree, "passed", lambda i: (
        f"导出的是否合格为「{'合格' if passed.iat[i] else '不合格'}」，按本批次规则"
        f"（{rules.PASS_RULES['weighted' if weighted[i] else 'both_parts']}）应为「{'合格' if computed[i] else '不合格'}」；以规则为准"), "warning")


def fee_standards(con, ck: Checker, cols, n, batch):
    fen_s = _money(ck, cols["amount"], n)
    ck.flag(present(fen_s) & (fen_s <= 0).fillna(False).to_numpy(), "amount", "收费标准须大于 0")
    out = pd.DataFrame({
        "province": map_values(ck, cols["province"], "province", PROVINCE_ALIASES, "省份", "31 个省级行政区之一"),
        "level": map_values(ck, cols["level"], "level", LEVEL_ALIASES, "级别", "初级 或 中级"),
        "effective_date": parse_dates(ck, cols["effective_date"], "effective_date").dt.date,
        "amount_fen": fen_s,
        "doc_no": _col(cols, "doc_no", n),
    })
    duplicate_keys(ck, out, ["province", "level", "effective_date"])
    return out


def payments(con, ck: Checker, cols, n, batch):
    fen_s = _money(ck, cols["amount"], n)
    ck.flag(present(fen_s) & (fen_s == 0).fillna(False).to_numpy(), "amount", "到账金额不能为 0")
    out = pd.DataFrame({
        "bank_ref": cols["bank_ref"].str.replace(SPACE_RUN, "", regex=True),
        "paid_date": parse_dates(ck, cols["paid_date"], "paid_date").dt.date,
        "payer": cols["payer"].str.strip(),
        "amount_fen": fen_s,
        "remark": _col(cols, "remark", n),
    })
    duplicate_keys(ck, out, ["bank_ref"])
    return out


VALIDATORS = {
    "schools": schools,
    "sites": sites,
    "registrations": registrations,
    "attendance": attendance,
    "scores": scores,
    "fee-standards": fee_standards,
    "payments": payments,
}
