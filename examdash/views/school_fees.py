"""本校费用: a school leader's own fee statement (charges, payments, balance) and its .xlsx."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from examdash.domain import fees
from examdash.domain.money import balance_words, settlement_words, yuan, yuan_text
from examdash.views.common import date_texts, yuan_columns
from examdash.views.fees import (
    payee_of,
    payee_table,
    statement_file,
    statement_file_name,
)

RULES = fees.RULES

__all__ = ["RULES", "SchoolFees", "build", "statement_file"]


@dataclass
class SchoolFees:
    school_code: str
    school_name: str
    province: str | None
    metrics: list[tuple[str, str, str]]
    per_batch: pd.DataFrame
    lines: pd.DataFrame
    payments: pd.DataFrame
    statement_name: str
    payee: pd.DataFrame  # 汇款信息: the payee's account and this school's remark
    remark: str  # the exact remark of this school's transfers, to copy


def build(run, user) -> SchoolFees:
    """本校费用: the signed-in school's own statement. The school comes from the identity only (and the
    runner is scoped to it)."""
    code = user.school_code
    bal = run("fee_balances", school=code)
    lines = run("fee_lines", school=code)
    batches = run("fee_school_batches", school=code)
    pays = run("fee_payment_list", school=code)
    charged = int(bal.charged_fen.sum())
    paid = int(bal.paid_fen.sum())
    settlement = int(lines.settlement_fen.sum())
    province = bal.province.iat[0] if len(bal) else (lines.province.iat[0] if len(lines) else None)
    metrics = [
        ("应缴", f"{yuan_text(charged)} 元", f"{int(lines.registrations.sum()):,} 人次，全部批次"),
        ("已缴", f"{yuan_text(paid)} 元", f"{len(pays):,} 笔到账（按银行流水号计）"),
        ("余额", f"{yuan_text(paid - charged)} 元", balance_words(paid - charged)),
        ("多退少补", settlement_words(settlement), "按暂行标准收取、考后当年公布省级标准的差额（已计入应缴）"),
    ]
    per_batch = pd.DataFrame({
        "考试批次": batches.batch_code,
        "考试日期": date_texts(batches.exam_date),
        "收费人次": batches.registrations.astype("int64"),
        **yuan_columns(batches, {"charged_fen": "应缴（元）", "settlement_fen": "其中多退少补（元）",
                               "paid_fen": "冲抵到账（元）", "balance_fen": "余额（元）"}),
    })
    line_table = pd.DataFrame({
        "考试批次": lines.batch_code,
        "级别": lines.level,
        "收费人次": lines.registrations.astype("int64"),
        "单价（元）": lines.unit_fen.map(yuan),
        "单价依据": lines.price_basis,
        "单价来源": lines.price_source,
        **yuan_columns(lines, {"amount_fen": "应缴（元）", "settlement_fen": "多退少补（元）"}),
    })
    pay_table = pd.DataFrame({
        "银行流水号": pays.bank_ref,
        "到账日期": date_texts(pays.paid_date),
        "付款单位": pays.payer,
        "金额（元）": pays.amount_fen.map(yuan),
        "备注": pays.remark,
        "匹配方式": pays.match_method,
    })
    name = user.school_name or (bal.school_name.iat[0] if len(bal) else code)
    payee = payee_of(run("payee"))
    return SchoolFees(code, name, province, metrics, per_batch, line_table, pay_table, statement_file_name(code, name),
                      payee_table(payee, name), payee.remark_for(name))
