"""Fees: matching bank payments to schools. Pricing and balances are SQL in queries/."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from examdash import db

# Longest first: a remark that says 职院 means 职业技术学院 or 职业学院.
ABBREVIATIONS = (
    ("职业技术学院", "职院"),
    ("职业学院", "职院"),
    ("高等专科学校", "高专"),
    ("师范大学", "师大"),
    ("科技大学", "科大"),
    ("大学", "大"),
)
NOISE = re.compile(r"1\s*\+\s*x|考核费用?|考试费用?|报名费|费用|缴费|付款|汇款|转账|代付|[\s\-_,，。.;；:：/\\()（）\[\]【】\"'“”]", re.I)


def normalise(text) -> str:
    s = unicodedata.normalize("NFKC", str(text or "")).lower()
    s = NOISE.sub("", s)
    for long, short in ABBREVIATIONS:
        s = s.replace(long, short)
    return s


def match_one(payer: str | None, remark: str | None, schools: pd.DataFrame) -> tuple[str | None, str, float]:
    """(school_code, method, confidence) for one payment; None when unmatched or ambiguous."""
    payer = (payer or "").strip()
    text = f"{payer} {remark or ''}"
    exact = schools[schools.school_name == payer]
    if len(exact) == 1:
        return exact.school_code.iat[0], "付款单位全称", 1.0
    contained = schools[[name in text for name in schools.school_name]]
    if len(contained) == 1:
        return contained.school_code.iat[0], "备注含全称", 0.9
    if len(contained) > 1:
        longest = contained.school_name.str.len().max()
        top = contained[contained.school_name.str.len() == longest]
        if len(top) == 1:
            return top.school_code.iat[0], "备注含全称", 0.85
        return None, "多个院校匹配", 0.0
    norm_text = normalise(text)
    norm_names = schools.school_name.map(normalise)
    hits = schools[[bool(n) and n in norm_text for n in norm_names]]
    if len(hits) == 1:
        return hits.school_code.iat[0], "规范化名称", 0.7
    if len(hits) > 1:
        return None, "多个院校匹配", 0.0
    return None, "未匹配", 0.0


def match_payments(cur, actor: str) -> int:
    """Match every payment that no one has matched or assigned yet. Returns how many matched."""
    schools = cur.execute("select school_code, school_name from schools").df()
    todo = cur.execute(
        "select bank_ref, payer, remark from payments where school_code is null and assigned_by is null"
    ).df()
    matched = 0
    for row in todo.itertuples(index=False):
        code, method, conf = match_one(row.payer, row.remark, schools)
        cur.execute(
            "update payments set school_code = $code, match_method = $m, match_confidence = $c where bank_ref = $ref",
            {"code": code, "m": method, "c": conf, "ref": row.bank_ref},
        )
        matched += code is not None
    return matched


def assign_payment(con, bank_ref: str, school_code: str | None, actor: str) -> None:
    """Staff decide which school an unmatched or ambiguous payment belongs to (audited)."""
    with db.transaction(con) as cur:
        before = cur.execute("select school_code from payments where bank_ref = $r", {"r": bank_ref}).fetchall()
        if not before:
            raise ValueError(f"没有银行流水号为 {bank_ref} 的到账记录")
        if school_code is not None and not cur.execute(
            "select 1 from schools where school_code = $c", {"c": school_code}
        ).fetchall():
            raise ValueError(f"院校代码 {school_code} 不存在")
        cur.execute(
            "update payments set school_code = $c, match_method = '人工指定', match_confidence = 1.0, "
            "assigned_by = $who, assigned_at = $at where bank_ref = $r",
            {"c": school_code, "who": actor, "at": db.now(), "r": bank_ref},
        )
        db.bump_version(cur)
        db.audit(cur, actor, "assign_payment", bank_ref, {"from": before[0][0], "to": school_code})
