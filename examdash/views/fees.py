"""What the fee pages show (费用 for staff, 本校费用 for a school), computed from the fee_* named queries.

Money stays integer fen until it is shown: tables get exact Decimal yuan, metrics yuan text, Excel
cells yuan numbers converted from fen (examdash/fees.py has the rules and the statement).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from examdash import web
from examdash.domain import fees
from examdash.store import db, queries
from examdash.views import exports
from examdash.domain.fees import yuan, yuan_text

ALL_BATCHES = "全部批次"


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.strftime("%Y-%m-%d").astype("object").where(s.notna(), None)


def _yuan_cols(df: pd.DataFrame, mapping: dict[str, str]) -> dict[str, pd.Series]:
    return {label: df[col].map(yuan) for col, label in mapping.items()}


@dataclass
class StaffFees:
    period: str
    totals: pd.Series
    payment_totals: pd.Series
    metrics: list[tuple[str, str, str]]
    checks: list[tuple[str, bool]]
    balances_raw: pd.DataFrame
    balances: pd.DataFrame
    by_province: pd.DataFrame
    province_chart: pd.DataFrame
    settlement: pd.DataFrame
    queue_raw: pd.DataFrame
    queue: pd.DataFrame
    to_check_raw: pd.DataFrame
    to_check: pd.DataFrame
    payments: pd.DataFrame
    prices: pd.DataFrame
    schools: pd.DataFrame = field(default_factory=pd.DataFrame)


BALANCE_MONEY = {"charged_fen": "应缴（元）", "paid_fen": "已缴（元）", "balance_fen": "余额（元）",
                 "settlement_fen": "其中多退少补（元）"}


def balances_table(raw: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "院校代码": raw.school_code,
        "院校名称": raw.school_name,
        "省份": raw.province,
        "收费人次": raw.registrations.astype("int64"),
        **_yuan_cols(raw, BALANCE_MONEY),
        "状态": raw.status,
        "到账笔数": raw.payments.astype("int64"),
    })


def staff(batch: str | None, province: str | None, school: str | None, price_batch: str) -> StaffFees:
    """The 费用 page for staff. batch None means every batch (payments are per school, not per batch)."""
    p = {"batch": batch, "province": province, "school": school}
    totals = web.query("fee_totals", **p).iloc[0]
    pay_totals = web.query("fee_payment_totals").iloc[0]
    bal = web.query("fee_balances", **p)
    prov = web.query("fee_by_province", batch=batch, province=province)
    sett = web.query("fee_settlement", **p)
    queue_raw = web.query("fee_unmatched")
    matched = web.query("fee_payment_list", province=province, school=school)
    prices = web.query("fee_prices", batch=price_batch, province=province)

    period = ALL_BATCHES if batch is None else batch
    charged, paid = int(totals.charged_fen), int(totals.paid_fen)
    metrics = [
        ("应缴", f"{yuan_text(charged)} 元", f"{int(totals.registrations):,} 人次（{period}），按省级标准或暂行标准计价"),
        ("已缴（已匹配）", f"{yuan_text(paid)} 元",
         "已匹配或已认领到院校的到账" + ("" if batch is None else "，按考试先后冲抵分摊到本批次")),
        ("余额", f"{yuan_text(paid - charged)} 元", "已缴 − 应缴：负数为欠费，正数为结余"),
        ("欠费", f"{yuan_text(int(totals.owed_fen))} 元", f"{int(totals.schools_owing):,} 所院校欠费"),
        ("结余", f"{yuan_text(int(totals.credit_fen))} 元", f"{int(totals.schools_in_credit):,} 所院校多缴"),
        ("多退少补·应退", f"{yuan_text(int(totals.settlement_refund_fen))} 元",
         f"{int(totals.schools_settling):,} 所院校按暂行标准收取、考后当年公布了省级标准；此为省级标准低于暂行标准的差额合计"),
        ("多退少补·应补", f"{yuan_text(int(totals.settlement_topup_fen))} 元", "省级标准高于暂行标准的差额合计"),
        ("待认领到账", f"{int(pay_totals.unmatched):,} 笔",
         f"合计 {yuan_text(int(pay_totals.unmatched_fen))} 元；认领之前不计入任何院校"),
    ]
    checks = _checks(bal, totals, pay_totals, whole=batch is None and province is None and school is None)

    by_province = pd.DataFrame({
        "省份": prov.province,
        "院校数": prov.schools.astype("int64"),
        "收费人次": prov.registrations.astype("int64"),
        **_yuan_cols(prov, {"charged_fen": "应缴（元）", "paid_fen": "已缴（元）", "balance_fen": "余额（元）",
                            "owed_fen": "欠费合计（元）", "credit_fen": "结余合计（元）"}),
        "欠费院校数": prov.schools_owing.astype("int64"),
        **_yuan_cols(prov, {"settlement_fen": "多退少补（元）"}),
    })
    chart = pd.concat([
        pd.DataFrame({"省份": prov.province, "项目": label, "金额（元）": prov[col].map(fees.yuan_cell)})
        for label, col in (("应缴", "charged_fen"), ("已缴", "paid_fen"))
    ], ignore_index=True)

    settlement = pd.DataFrame({
        "院校代码": sett.school_code,
        "院校名称": sett.school_name,
        "省份": sett.province,
        "省级标准文号": sett.doc_no,
        "标准生效日期": _dates(sett.standard_effective_date),
        "涉及人次": sett.registrations.astype("int64"),
        **_yuan_cols(sett, {"provisional_fen": "按暂行标准（元）", "final_fen": "按省级标准（元）"}),
        "多退少补": sett.action,
        "金额（元）": sett.settlement_fen.abs().map(yuan),
        **_yuan_cols(sett, {"paid_fen": "已缴（元）", "balance_fen": "余额（元）"}),
    })

    queue = pd.DataFrame({
        "银行流水号": queue_raw.bank_ref,
        "到账日期": _dates(queue_raw.paid_date),
        "付款单位": queue_raw.payer,
        "金额（元）": queue_raw.amount_fen.map(yuan),
        "备注": queue_raw.remark,
        "原因": queue_raw.match_method,
        "候选院校 / 说明": queue_raw.match_note,
    })
    check_raw = matched[matched.assigned_by.isna() & (matched.match_confidence < fees.AUTO_CHECK_BELOW)]
    to_check = _payments_table(check_raw)
    payments = _payments_table(matched)

    price_table = pd.DataFrame({
        "考试批次": prices.batch_code,
        "省份": prices.province,
        "级别": prices.level,
        "单价（元）": prices.unit_fen.map(yuan),
        "单价依据": prices.price_basis,
        "来源（文号或暂行标准）": prices.price_source,
        "标准生效日期": _dates(prices.standard_effective_date),
        "暂行单价（元）": prices.provisional_unit_fen.map(yuan),
        "每人次多退少补（元）": prices.settlement_unit_fen.map(yuan),
    })
    return StaffFees(period, totals, pay_totals, metrics, checks, bal, balances_table(bal), by_province, chart,
                     settlement, queue_raw, queue, check_raw, to_check, payments, price_table)


def _payments_table(raw: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "银行流水号": raw.bank_ref,
        "到账日期": _dates(raw.paid_date),
        "付款单位": raw.payer,
        "金额（元）": raw.amount_fen.map(yuan),
        "备注": raw.remark,
        "院校代码": raw.school_code,
        "院校名称": raw.school_name,
        "匹配方式": raw.match_method,
        "置信度": raw.match_confidence.astype("float64"),
        "认领人": raw.assigned_by,
    })


def _checks(bal: pd.DataFrame, totals: pd.Series, pay: pd.Series, whole: bool) -> list[tuple[str, bool]]:
    """The totals that must reconcile, in fen, each with whether it does."""
    sum_bal = int(bal.balance_fen.sum())
    charged, paid = int(totals.charged_fen), int(totals.paid_fen)
    out = [(
        f"各院校余额合计 {yuan_text(sum_bal)} 元 = 已缴 {yuan_text(paid)} − 应缴 {yuan_text(charged)}",
        sum_bal == paid - charged and int(bal.charged_fen.sum()) == charged and int(bal.paid_fen.sum()) == paid,
    ), (
        f"已匹配 {yuan_text(int(pay.matched_fen))} + 待认领 {yuan_text(int(pay.unmatched_fen))} = 全部到账 "
        f"{yuan_text(int(pay.all_fen))} 元（{int(pay.payments):,} 笔，同一银行流水号只计一次）",
        int(pay.matched_fen) + int(pay.unmatched_fen) == int(pay.all_fen),
    )]
    if whole:
        out.append((
            f"全部批次的已缴 {yuan_text(paid)} = 已匹配到账 {yuan_text(int(pay.matched_fen))}",
            paid == int(pay.matched_fen),
        ))
    return out


def balances_downloads(raw: pd.DataFrame, describe: str) -> dict:
    """ext -> (build, file name, MIME type) of the balances table, money as yuan numbers with two
    decimals; the bytes are made on click."""
    def numbers() -> pd.DataFrame:
        # Money stays numeric (float64 converted from fen, never summed as float): exports.neutralise
        # would prefix a negative amount written as text with an apostrophe.
        return balances_table(raw).assign(**{label: raw[col].pipe(fees.money_cells) for col, label in BALANCE_MONEY.items()})

    builds = {
        "xlsx": lambda: exports.to_xlsx(numbers(), "院校费用余额"),
        "csv": lambda: exports.neutralise(numbers()).to_csv(index=False, float_format="%.2f").encode("utf-8-sig"),
    }
    return {ext: (build, exports.file_name("费用余额", describe, ext), exports.MIME[ext]) for ext, build in builds.items()}


def statement_file(code: str) -> Callable[[], bytes]:
    """One school's 对账单 .xlsx, made on click (outside the script: the scope and connection are taken now)."""
    query, con = web.bound_query(), web.con()
    return lambda: fees.statement_xlsx(query, code, db.now(con))


def all_statements(province: str | None, school: str | None):
    """A callable for a deferred download: every listed school's statement in a .zip. It runs on
    another thread when clicked, so it carries the signed-in scope instead of reading the session."""
    scope, con = web.scope(), web.con()

    def build() -> bytes:
        return fees.statements_zip(lambda name, **params: queries.run(con, name, params, scope), province, school,
                                   at=db.now(con))

    return build


def money_config(df: pd.DataFrame) -> dict:
    """Column settings showing every yuan column with two decimals (the values are exact Decimals)."""
    import streamlit as st

    return {c: st.column_config.NumberColumn(c, format="%.2f") for c in df.columns if c.endswith("（元）")}


def show_table(df: pd.DataFrame, key: str) -> None:
    import streamlit as st

    st.dataframe(df, hide_index=True, column_config=money_config(df), key=key)


def school_choices() -> pd.DataFrame:
    options = web.query("filter_options")
    return options[options.kind == "school"][["code", "name", "province"]].reset_index(drop=True)


def assignable(view: StaffFees) -> tuple[list[str], dict[str, str], dict[str, list[str]]]:
    """Bank lines staff may assign (the queue, then automatic matches to check): options, labels, candidates."""
    options, labels, cands = [], {}, {}
    for r in view.queue_raw.itertuples(index=False):
        options.append(r.bank_ref)
        labels[r.bank_ref] = f"[待认领] {r.bank_ref} · {yuan_text(r.amount_fen)} 元 · {r.payer or ''} · {r.remark or ''}"
        cands[r.bank_ref] = fees.candidates_in(r.match_note)
    for r in view.to_check_raw.itertuples(index=False):
        options.append(r.bank_ref)
        labels[r.bank_ref] = (f"[待核对 {r.match_confidence:.2f}] {r.bank_ref} · {yuan_text(r.amount_fen)} 元 · "
                              f"{r.payer or ''} · {r.remark or ''} → {r.school_name}")
        cands[r.bank_ref] = [r.school_code]
    return options, labels, cands


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


def school() -> SchoolFees:
    """本校费用: the signed-in school's own statement. The school comes from the identity only."""
    user = web.require("school")
    code = user.school_code
    bal = web.query("fee_balances", school=code)
    lines = web.query("fee_lines", school=code)
    batches = web.query("fee_school_batches", school=code)
    pays = web.query("fee_payment_list", school=code)
    charged = int(bal.charged_fen.sum())
    paid = int(bal.paid_fen.sum())
    settlement = int(lines.settlement_fen.sum())
    province = bal.province.iat[0] if len(bal) else (lines.province.iat[0] if len(lines) else None)
    metrics = [
        ("应缴", f"{yuan_text(charged)} 元", f"{int(lines.registrations.sum()):,} 人次，全部批次"),
        ("已缴", f"{yuan_text(paid)} 元", f"{len(pays):,} 笔到账（按银行流水号计）"),
        ("余额", f"{yuan_text(paid - charged)} 元", fees.balance_words(paid - charged)),
        ("多退少补", fees.settlement_words(settlement), "按暂行标准收取、考后当年公布省级标准的差额（已计入应缴）"),
    ]
    per_batch = pd.DataFrame({
        "考试批次": batches.batch_code,
        "考试日期": _dates(batches.exam_date),
        "收费人次": batches.registrations.astype("int64"),
        **_yuan_cols(batches, {"charged_fen": "应缴（元）", "settlement_fen": "其中多退少补（元）",
                               "paid_fen": "冲抵到账（元）", "balance_fen": "余额（元）"}),
    })
    line_table = pd.DataFrame({
        "考试批次": lines.batch_code,
        "级别": lines.level,
        "收费人次": lines.registrations.astype("int64"),
        "单价（元）": lines.unit_fen.map(yuan),
        "单价依据": lines.price_basis,
        "单价来源": lines.price_source,
        **_yuan_cols(lines, {"amount_fen": "应缴（元）", "settlement_fen": "多退少补（元）"}),
    })
    pay_table = pd.DataFrame({
        "银行流水号": pays.bank_ref,
        "到账日期": _dates(pays.paid_date),
        "付款单位": pays.payer,
        "金额（元）": pays.amount_fen.map(yuan),
        "备注": pays.remark,
        "匹配方式": pays.match_method,
    })
    name = user.school_name or (bal.school_name.iat[0] if len(bal) else code)
    return SchoolFees(code, name, province, metrics, per_batch, line_table, pay_table, fees.statement_file_name(code, name))
