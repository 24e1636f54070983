"""费用 (staff): per school and province charged / paid / balance, 多退少补, the unmatched-payment queue,
and the statements (对账单) that 本校费用 uses too, from the fee_* named queries.

Money stays integer fen until it is shown: tables get exact Decimal yuan, metrics yuan text, Excel
cells yuan numbers converted from fen (examdash/domain/fees.py has the rules).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from examdash.domain import fees
from examdash.domain.money import (
    balance_words,
    settlement_words,
    yuan,
    yuan_cell,
    yuan_text,
)
from examdash.domain.plan import PAYEE_FIELDS, Payee
from examdash.store import db, queries
from examdash.views import exports, offload
from examdash.views.common import date_texts, yuan_columns

ALL_BATCHES = "全部批次"
RULES, AUTO_CHECK_BELOW = fees.RULES, fees.AUTO_CHECK_BELOW


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
    payee: Payee | None = None
    schools: pd.DataFrame = field(default_factory=pd.DataFrame)


BALANCE_MONEY = {"charged_fen": "应缴（元）", "paid_fen": "已缴（元）", "balance_fen": "余额（元）",
                 "settlement_fen": "其中多退少补（元）"}


def balances_table(raw: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "院校代码": raw.school_code,
        "院校名称": raw.school_name,
        "省份": raw.province,
        "收费人次": raw.registrations.astype("int64"),
        **yuan_columns(raw, BALANCE_MONEY),
        "状态": raw.status,
        "到账笔数": raw.payments.astype("int64"),
    })


def build(run, batch: str | None, province: str | None, school: str | None, price_batch: str) -> StaffFees:
    """The 费用 page for staff. batch None means every batch (payments are per school, not per batch)."""
    p = {"batch": batch, "province": province, "school": school}
    totals = run("fee_totals", **p).iloc[0]
    pay_totals = run("fee_payment_totals").iloc[0]
    bal = run("fee_balances", **p)
    prov = run("fee_by_province", batch=batch, province=province)
    sett = run("fee_settlement", **p)
    queue_raw = run("fee_unmatched")
    matched = run("fee_payment_list", province=province, school=school)
    prices = run("fee_prices", batch=price_batch, province=province)

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
        **yuan_columns(prov, {"charged_fen": "应缴（元）", "paid_fen": "已缴（元）", "balance_fen": "余额（元）",
                            "owed_fen": "欠费合计（元）", "credit_fen": "结余合计（元）"}),
        "欠费院校数": prov.schools_owing.astype("int64"),
        **yuan_columns(prov, {"settlement_fen": "多退少补（元）"}),
    })
    chart = pd.concat([
        pd.DataFrame({"省份": prov.province, "项目": label, "金额（元）": prov[col].map(yuan_cell)})
        for label, col in (("应缴", "charged_fen"), ("已缴", "paid_fen"))
    ], ignore_index=True)

    settlement = pd.DataFrame({
        "院校代码": sett.school_code,
        "院校名称": sett.school_name,
        "省份": sett.province,
        "省级标准文号": sett.doc_no,
        "标准生效日期": date_texts(sett.standard_effective_date),
        "涉及人次": sett.registrations.astype("int64"),
        **yuan_columns(sett, {"provisional_fen": "按暂行标准（元）", "final_fen": "按省级标准（元）"}),
        "多退少补": sett.action,
        "金额（元）": sett.settlement_fen.abs().map(yuan),
        **yuan_columns(sett, {"paid_fen": "已缴（元）", "balance_fen": "余额（元）"}),
    })

    queue = pd.DataFrame({
        "银行流水号": queue_raw.bank_ref,
        "到账日期": date_texts(queue_raw.paid_date),
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
        "标准生效日期": date_texts(prices.standard_effective_date),
        "暂行单价（元）": prices.provisional_unit_fen.map(yuan),
        "每人次多退少补（元）": prices.settlement_unit_fen.map(yuan),
    })
    return StaffFees(period, totals, pay_totals, metrics, checks, bal, balances_table(bal), by_province, chart,
                     settlement, queue_raw, queue, check_raw, to_check, payments, price_table, payee_of(run("payee")))


def _payments_table(raw: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "银行流水号": raw.bank_ref,
        "到账日期": date_texts(raw.paid_date),
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
        return balances_table(raw).assign(**{label: raw[col].pipe(money_cells) for col, label in BALANCE_MONEY.items()})

    builds = {
        "xlsx": lambda: exports.to_xlsx(numbers(), "院校费用余额"),
        "csv": lambda: exports.neutralise(numbers()).to_csv(index=False, float_format="%.2f").encode("utf-8-sig"),
    }
    return {ext: (build, exports.file_name("费用余额", describe, ext), exports.MIME[ext]) for ext, build in builds.items()}


def statement_file(run, con, code: str) -> Callable[[], bytes]:
    """One school's 对账单 .xlsx, made on click: `run` must not need the session (web.bound_query)."""
    return lambda: statement_xlsx(run, code, db.now(con))


def all_statements(con, scope: queries.Scope, province: str | None, school: str | None):
    """Every listed school's statement in a .zip, for a background build (web.file_job): the queries run
    here, the workbooks are written in a child process (offload.py). Carries the signed-in scope instead
    of reading the session. Returns build(progress) -> (bytes, what was served)."""
    def build_zip(progress) -> tuple[bytes, dict]:
        progress(0.0, "查询各院校的费用数据")
        inputs = _statement_inputs(lambda name, **params: queries.run(con, name, params, scope), school, province)
        data = offload.build("statements_zip", inputs, db.now(con), progress=progress)
        return data, {"schools": len(inputs["balances"])}

    return build_zip


def assign(con, user, bank_ref: str, school_code: str | None, note: str | None) -> str | None:
    """Staff decide which school a bank line belongs to (audited in the domain); why not, or None."""
    if school_code is None:
        return "请先选择院校。"
    try:
        fees.assign_payment(con, bank_ref, school_code, user.username, note=note)
    except ValueError as exc:
        return str(exc)
    return None


def rematch(con, user) -> str:
    return f"重新匹配完成：{fees.rematch(con, user.username)} 笔到账匹配到院校。"


def school_choices(run) -> pd.DataFrame:
    options = run("filter_options")
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


def _query_fn(con_or_query_fn):
    """A query function (name, **params) -> frame: web.query as given, or a full-scope runner over a connection."""
    if hasattr(con_or_query_fn, "execute"):
        from examdash.store import queries

        con = con_or_query_fn
        return lambda name, **params: queries.run(con, name, params)
    return con_or_query_fn


def _date_text(v) -> str | None:
    if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, (dt.date, pd.Timestamp)):
        return f"{v:%Y-%m-%d}"
    return str(v)


TOTAL = "合计"


def _statement_inputs(q, school: str | None, province: str | None = None) -> dict[str, pd.DataFrame]:
    """The four scoped queries behind statements, over every batch: one school's, or all at once."""
    return {
        "balances": q("fee_balances", school=school, province=province),
        "batches": q("fee_school_batches", school=school, province=province),
        "lines": q("fee_lines", school=school, province=province),
        "payments": q("fee_payment_list", school=school, province=province),
        "payee": q("payee"),
    }


def _made_at(con_or_query_fn, at: dt.datetime | None) -> dt.datetime:
    """When a statement is made, on the app's clock (callers holding only a query function pass it)."""
    return at or db.now(con_or_query_fn if hasattr(con_or_query_fn, "execute") else None)


def statement_frames(con_or_query_fn, school_code: str, at: dt.datetime | None = None) -> dict[str, pd.DataFrame]:
    """The 对账单 of one school as sheets: 汇总, 汇款信息, 分批次, 报名费用明细, 到账记录, 计费规则.
    With a school-scoped query function only that school's own rows can appear."""
    return _statement_sheets(_statement_inputs(_query_fn(con_or_query_fn), school_code), school_code,
                             _made_at(con_or_query_fn, at))


def _statement_sheets(inputs: dict[str, pd.DataFrame], school_code: str, at: dt.datetime) -> dict[str, pd.DataFrame]:
    bal, batches, lines, pays = (inputs[k] for k in ("balances", "batches", "lines", "payments"))
    row = bal.iloc[0] if len(bal) else None
    charged = int(row.charged_fen) if row is not None else 0
    paid = int(row.paid_fen) if row is not None else 0
    settlement = int(lines.settlement_fen.sum()) if len(lines) else 0
    name = row.school_name if row is not None else (lines.school_name.iat[0] if len(lines) else school_code)
    province = row.province if row is not None else (lines.province.iat[0] if len(lines) else None)
    balance = paid - charged
    summary = pd.DataFrame({
        "项目": ["院校代码", "院校名称", "省份", "收费人次", "应缴合计", "已到账合计", "余额", "其中多退少补", "到账笔数",
                "生成时间"],
        "内容": [school_code, name, province, f"{int(lines.registrations.sum()) if len(lines) else 0}",
                f"{yuan_text(charged)} 元", f"{yuan_text(paid)} 元", balance_words(balance), settlement_words(settlement),
                f"{len(pays)}", f"{at:%Y-%m-%d %H:%M}"],
        # Numbers in a column of their own: exports.neutralise treats text beginning with '-' as a formula.
        "金额（元）": money_cells([None, None, None, None, charged, paid, balance, settlement, None, None]),
    })
    per_batch = pd.DataFrame({
        "考试批次": batches.batch_code,
        "批次名称": batches.batch_name,
        "考试日期": batches.exam_date.map(_date_text),
        "收费人次": batches.registrations.astype("int64"),
        "应缴（元）": batches.charged_fen.pipe(money_cells),
        "其中多退少补（元）": batches.settlement_fen.pipe(money_cells),
        "冲抵到账（元）": batches.paid_fen.pipe(money_cells),
        "余额（元）": batches.balance_fen.pipe(money_cells),
    })
    per_batch = _with_total(per_batch, "考试批次", {
        "收费人次": int(batches.registrations.sum()), "应缴（元）": yuan_cell(batches.charged_fen.sum()),
        "其中多退少补（元）": yuan_cell(batches.settlement_fen.sum()), "冲抵到账（元）": yuan_cell(batches.paid_fen.sum()),
        "余额（元）": yuan_cell(batches.balance_fen.sum())})
    detail = pd.DataFrame({
        "考试批次": lines.batch_code,
        "级别": lines.level,
        "收费人次": lines.registrations.astype("int64"),
        "单价（元）": lines.unit_fen.pipe(money_cells),
        "单价依据": lines.price_basis,
        "单价来源（文号或暂行标准）": lines.price_source,
        "标准生效日期": lines.standard_effective_date.map(_date_text),
        "应缴（元）": lines.amount_fen.pipe(money_cells),
        "暂行单价（元）": lines.provisional_unit_fen.pipe(money_cells),
        "按暂行标准应收（元）": lines.provisional_amount_fen.pipe(money_cells),
        "多退少补（元）": lines.settlement_fen.pipe(money_cells),
    })
    detail = _with_total(detail, "考试批次", {
        "收费人次": int(lines.registrations.sum()), "应缴（元）": yuan_cell(lines.amount_fen.sum()),
        "多退少补（元）": yuan_cell(lines.settlement_fen.sum())})
    payments = pd.DataFrame({
        "银行流水号": pays.bank_ref,
        "到账日期": pays.paid_date.map(_date_text),
        "付款单位": pays.payer,
        "金额（元）": pays.amount_fen.pipe(money_cells),
        "备注": pays.remark,
        "匹配方式": pays.match_method,
        "匹配置信度": pd.to_numeric(pays.match_confidence).astype("float64"),
        "认领人": pays.assigned_by,
    })
    payments = _with_total(payments, "银行流水号", {"金额（元）": yuan_cell(pays.amount_fen.sum())})
    rules = pd.DataFrame({"计费规则": list(fees.RULES)})
    return {"汇总": summary, "汇款信息": payee_table(payee_of(inputs["payee"]), name), "分批次": per_batch,
            "报名费用明细": detail, "到账记录": payments, "计费规则": rules}


def payee_of(frame: pd.DataFrame) -> Payee:
    """The payee of the `payee` query's one row."""
    if frame.empty:
        raise ValueError("考试计划中没有收款账户信息（data/exam_plan.toml 的 [payee]）")
    row = frame.iloc[0]
    return Payee(**{k: str(row[k]) for k in PAYEE_FIELDS})


def payee_table(payee: Payee, school_name: str) -> pd.DataFrame:
    """汇款信息 for one school: the payee's account and the exact remark this school's transfer carries."""
    items = payee.lines() + [("付款备注（请原样填写）", payee.remark_for(school_name)), ("备注规则", payee.remark_rule)]
    return pd.DataFrame({"项目": [k for k, _ in items], "内容": [v for _, v in items]})


def money_cells(fens) -> pd.Series:
    """Yuan numbers for Excel cells (float64, NaN where there is no amount), converted from fen."""
    return pd.Series([yuan_cell(v) for v in fens], dtype="float64", 
                     index=fens.index if isinstance(fens, pd.Series) else None)


def _with_total(df: pd.DataFrame, label_col: str, values: dict) -> pd.DataFrame:
    """Append a 合计 row, keeping numeric columns numeric (text cells get neutralised on export)."""
    total = pd.DataFrame([{label_col: TOTAL, **values}])
    out = pd.concat([df, total], ignore_index=True)
    for col in df.columns:
        if col != label_col and pd.api.types.is_numeric_dtype(df[col]):
            out[col] = pd.to_numeric(out[col])
    return out


def statement_xlsx(con_or_query_fn, school_code: str, at: dt.datetime | None = None) -> bytes:
    """The school's 对账单 as an .xlsx (several sheets), from a connection or a query function."""
    return exports.to_xlsx(statement_frames(con_or_query_fn, school_code, at))


def statement_file_name(school_code: str, school_name: str | None) -> str:
    return exports.file_name("费用对账单", f"{school_code}_{school_name or ''}", "xlsx")


def statements_zip(con_or_query_fn, province: str | None = None, school: str | None = None,
                   at: dt.datetime | None = None) -> bytes:
    """Every listed school's 对账单 (the same workbook statement_xlsx makes) in one .zip, the queries
    run once for all schools."""
    inputs = _statement_inputs(_query_fn(con_or_query_fn), school, province)
    return zip_statements(inputs, _made_at(con_or_query_fn, at))


def zip_statements(inputs: dict[str, pd.DataFrame], at: dt.datetime, progress=None) -> bytes:
    """The .zip of statements from the frames _statement_inputs read (what a child process builds, see
    offload.py); `progress(fraction, text)` after each school."""
    payee = inputs["payee"]  # the same for every school
    inputs = {k: df for k, df in inputs.items() if k != "payee"}
    parts = {k: dict(tuple(df.groupby("school_code", sort=False))) for k, df in inputs.items()}
    listed = list(zip(inputs["balances"].school_code, inputs["balances"].school_name))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (code, name) in enumerate(listed, start=1):
            mine = {k: parts[k].get(code, inputs[k].iloc[0:0]).reset_index(drop=True) for k in inputs} | {"payee": payee}
            zf.writestr(statement_file_name(code, name), exports.to_xlsx(_statement_sheets(mine, code, at)))
            if progress:
                progress(i / len(listed), f"已生成 {i:,} / {len(listed):,} 所院校的对账单")
    return buf.getvalue()

