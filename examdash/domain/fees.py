"""考核费用规则（本项目唯一的文字说明；SQL 写在 examdash/store/migrations/002_fees.sql 的视图里，queries/fee_*.sql 只做筛选、限定范围与汇总）

1. 收费对象：报名状态为「正常」的报名按人·次收费，缺考照收；「已取消」的报名不收费。社会考生记在其考点所属院校名下，由该院校缴费。
2. 单价：按缴费院校所在省份、该级别、在该批次考试日有效的省级标准（生效日期不晚于考试日的最近一条）。考试日尚无标准、但该省在考试当年内晚些时候公布了标准的，以公布的第一条标准为最终单价，先按暂行标准收取的差额多退少补；都没有的，按暂行标准：初级 270 元、中级 280 元/人·次。每一行都注明单价来源（省级标准文号或暂行标准）。收费标准表里有的标准即视为已公布，与今天的日期无关。
3. 金额一律以整数「分」计算与汇总（不做浮点运算），显示为保留两位小数的元。
4. 到账以银行流水号为准：同一流水号无论导入几次、出现在几个文件里，只计一次。按付款单位和备注匹配院校：先比付款单位全称，再看备注是否按付款规则写成「单位名称 + 1+X 考核费用」（收款账户与规则见考试计划），再比全称，再比规范化名称（全角半角、空格、「职业技术学院/职业学院→职院」等简称与后缀），保留匹配方式与置信度；认不出或可能属于多所院校的到账进入待认领队列，由考务人员指定院校（记入审计日志）；认领之前不计入任何院校。
5. 余额 = 已到账 − 应缴：负数为欠费，正数为结余（多缴或应退）。到账按院校计、不分批次；按批次查看时，院校的到账先冲抵考试日期较早批次的应缴（每批次以应缴为限），余下部分（含多缴）留在该院校最近的批次（没有应缴的院校留在考试计划中最近的批次），各批次之和等于该院校的全部到账。
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from examdash.domain.plan import SCHOOL_NAME
from examdash.store import db

RULES: tuple[str, ...] = tuple(
    line.strip() for line in (__doc__ or "").splitlines() if re.match(r"\s*\d+\.", line)
)

# Long forms first. 大学 -> 大 is left out on purpose: a two-character alias such as 北京大 turns
# up inside unrelated names (北京大兴…) and would match the wrong school.
ABBREVIATIONS = (
    ("职业技术学院", "职院"),
    ("职业学院", "职院"),
    ("高等专科学校", "高专"),
    ("中等专业学校", "中专"),
    ("职业技术学校", "职校"),
    ("师范大学", "师大"),
    ("科技大学", "科大"),
)
NOISE = re.compile(
    r"1\s*\+\s*x|考核费用?|考试费用?|报名费|费用|缴费|交费|付款|汇款|转账|代付|货款"
    r"|[\s\-_,，。.;；:：/\\()（）\[\]【】\"'“”‘’、·]",
    re.I,
)
MIN_ALIAS = 3  # shorter normalised names are too likely to occur inside other words

AUTO_CHECK_BELOW = 0.8  # automatic matches below this confidence are listed for staff to check


def clean(text) -> str:
    """Full-width to half-width, no whitespace: for comparing full names."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


def normalise(text) -> str:
    """Clean, lower-case, drop payment words and punctuation, shorten the usual suffixes."""
    s = NOISE.sub("", unicodedata.normalize("NFKC", str(text or "")).lower())
    for long, short in ABBREVIATIONS:
        s = s.replace(long, short)
    return s


@dataclass(frozen=True)
class Match:
    school_code: str | None
    method: str
    confidence: float
    note: str | None = None


def _maximal(hits: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop hits whose matched text lies inside another hit's (广州信息职院 wins over 信息职院)."""
    return [(code, key) for code, key in hits if not any(key != other and key in other for _, other in hits)]


class Matcher:
    """Matches bank lines to schools; build once per schools list, then call match() per line."""

    def __init__(self, schools: pd.DataFrame, remark_rule: str | None = None):
        """remark_rule: the payee's remark rule ("{单位名称}1+X考核费用"); a remark written by it names
        its school exactly."""
        self.rule = None
        if remark_rule and SCHOOL_NAME in remark_rule:
            before, after = remark_rule.split(SCHOOL_NAME, 1)
            self.rule = (clean(before), clean(after))
        self.names = dict(zip(schools.school_code.astype("str"), schools.school_name.astype("str")))
        self.by_clean: dict[str, list[str]] = {}
        self.by_norm: dict[str, list[str]] = {}
        for code, name in self.names.items():
            self.by_clean.setdefault(clean(name), []).append(code)
            n = normalise(name)
            if len(n) >= MIN_ALIAS:
                self.by_norm.setdefault(n, []).append(code)

    def _label(self, codes) -> str:
        return "候选：" + "、".join(f"{c} {self.names[c]}" for c in sorted(set(codes)))

    def _by_rule(self, remark_c: str) -> list[str]:
        """The school a remark names when it is written by the payee's rule, exactly."""
        if self.rule is None:
            return []
        before, after = self.rule
        if len(remark_c) <= len(before) + len(after) or not remark_c.startswith(before) or not remark_c.endswith(after):
            return []
        return self.by_clean.get(remark_c[len(before):len(remark_c) - len(after)], [])

    def _contained(self, text: str, table: dict[str, list[str]]) -> list[str]:
        hits = [(code, key) for key, codes in table.items() if key and key in text for code in codes]
        return sorted({code for code, _ in _maximal(hits)})

    def match(self, payer, remark) -> Match:
        payer_c, remark_c = clean(payer), clean(remark)
        named_in_remark = self._contained(remark_c, self.by_clean)
        by_payer = self.by_clean.get(payer_c, []) if payer_c else []
        how = "付款单位全称", 1.0
        if not by_payer and payer_c:
            by_payer = self.by_norm.get(normalise(payer), []) if len(normalise(payer)) >= MIN_ALIAS else []
            how = "付款单位规范化名称", 0.95
        if len(by_payer) > 1:
            return Match(None, "多个院校匹配", 0.0, self._label(by_payer))
        if len(by_payer) == 1:
            code = by_payer[0]
            if named_in_remark and code not in named_in_remark:
                return Match(None, "付款单位与备注不一致", 0.0, self._label([code, *named_in_remark]))
            return Match(code, how[0], how[1])
        by_rule = self._by_rule(remark_c)
        if len(by_rule) == 1:
            return Match(by_rule[0], "备注符合付款规则", 0.95)
        text_c = payer_c + " " + remark_c
        full = self._contained(text_c, self.by_clean)
        if len(full) == 1:
            return Match(full[0], "备注含全称", 0.9)
        if len(full) > 1:
            return Match(None, "多个院校匹配", 0.0, self._label(full))
        norm = self._contained(normalise(payer) + "|" + normalise(remark), self.by_norm)
        if len(norm) == 1:
            return Match(norm[0], "规范化名称", 0.7)
        if len(norm) > 1:
            return Match(None, "多个院校匹配", 0.0, self._label(norm))
        return Match(None, "未匹配", 0.0)


def candidates_in(note) -> list[str]:
    """School codes named in an ambiguous match's note (候选：01000 北京职业学院、01924 …)."""
    if not isinstance(note, str) or not note.startswith("候选："):
        return []
    return [item.split(" ")[0] for item in note[len("候选："):].split("、") if item]


def match_one(payer: str | None, remark: str | None, schools: pd.DataFrame,
              remark_rule: str | None = None) -> tuple[str | None, str, float]:
    """(school_code, method, confidence) for one payment; None when unmatched or ambiguous."""
    m = Matcher(schools, remark_rule).match(payer, remark)
    return m.school_code, m.method, m.confidence


def _apply_decisions(cur) -> None:
    """Staff decisions survive a re-imported or corrected bank line (the importer replaces the row)."""
    cur.execute(
        "update payments set school_code = a.school_code, "
        "match_method = case when a.school_code is null then '退回待认领' else '人工指定' end, "
        "match_confidence = case when a.school_code is null then 0.0 else 1.0 end, "
        "match_note = a.note, assigned_by = a.assigned_by, assigned_at = a.assigned_at "
        "from payment_assignments a where payments.bank_ref = a.bank_ref and payments.assigned_by is null"
    )


def match_payments(cur, actor: str) -> int:
    """Match every payment nobody has matched or decided yet (inside the caller's transaction).
    Returns how many were matched to a school."""
    _apply_decisions(cur)
    schools = cur.execute("select school_code, school_name from schools").df()
    rule = cur.execute("select remark from payee").fetchall()
    todo = cur.execute(
        "select bank_ref, payer, remark from payments where school_code is null and assigned_by is null"
    ).df()
    if todo.empty:
        return 0
    matcher = Matcher(schools, rule[0][0] if rule else None)
    found = [matcher.match(r.payer, r.remark) for r in todo.itertuples(index=False)]
    frame = pd.DataFrame({
        "bank_ref": todo.bank_ref.astype("str"),
        "school_code": pd.Series([m.school_code for m in found], dtype="str"),
        "method": [m.method for m in found],
        "confidence": [m.confidence for m in found],
        "note": pd.Series([m.note for m in found], dtype="str"),
    })
    db.register(cur, "_fee_matches", frame)
    try:
        cur.execute(
            "update payments set school_code = m.school_code, match_method = m.method, "
            "match_confidence = m.confidence, match_note = m.note "
            "from _fee_matches m where payments.bank_ref = m.bank_ref "
            "and payments.school_code is null and payments.assigned_by is null"
        )
    finally:
        cur.unregister("_fee_matches")
    return sum(m.school_code is not None for m in found)


def rematch(con, actor: str) -> int:
    """Run the automatic matching again over the queue (after a new schools list, say)."""
    with db.transaction(con) as cur:
        matched = match_payments(cur, actor)
        if matched:
            db.bump_version(cur)
        db.audit(cur, actor, "rematch_payments", None, {"matched": matched})
    return matched


def assign_payment(con, bank_ref: str, school_code: str | None, actor: str, note: str | None = None) -> None:
    """Staff decide which school a payment belongs to (None puts it back in the queue). Audited;
    kept in payment_assignments so a re-imported bank file does not undo it."""
    with db.transaction(con) as cur:
        before = cur.execute(
            "select school_code, amount_fen from payments where bank_ref = $r", {"r": bank_ref}
        ).fetchall()
        if not before:
            raise ValueError(f"没有银行流水号为 {bank_ref} 的到账记录")
        if school_code is not None and not cur.execute(
            "select 1 from schools where school_code = $c", {"c": school_code}
        ).fetchall():
            raise ValueError(f"院校代码 {school_code} 不存在")
        at = db.now(cur)
        note = (note or "").strip() or None
        cur.execute("delete from payment_assignments where bank_ref = $r", {"r": bank_ref})
        cur.execute(
            "insert into payment_assignments values ($r, $c, $who, $at, $note)",
            {"r": bank_ref, "c": school_code, "who": actor, "at": at, "note": note},
        )
        cur.execute(
            "update payments set school_code = $c, "
            "match_method = case when $c is null then '退回待认领' else '人工指定' end, "
            "match_confidence = case when $c is null then 0.0 else 1.0 end, match_note = $note, "
            "assigned_by = $who, assigned_at = $at where bank_ref = $r",
            {"c": school_code, "who": actor, "at": at, "r": bank_ref, "note": note},
        )
        db.bump_version(cur)
        db.audit(cur, actor, "assign_payment", bank_ref,
                 {"from": before[0][0], "to": school_code, "amount_fen": before[0][1], "note": note})


