"""Fees: pricing by province standard or provisional price, 多退少补, payment matching and the queue,
bank lines counted once, balances per batch, statements, school scope, exact money.

Expected figures are computed by hand from the demo generator's frames and constants (the same seed
as the demo database), or from raw tables, never by re-running the query under test.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from fees_expected import EXAM_DATE, demo_standards, expected_lines, fen, sheet
from helpers import rows, scalar, write_frame

from examdash import demo
from examdash.domain import fees, plan
from examdash.domain.money import fen_to_yuan, yuan, yuan_text
from examdash.importers import import_file
from examdash.store import db, queries
from examdash.store.sql_files import named_queries
from examdash.views.fees import TOTAL, statement_xlsx

FEE_QUERIES = sorted(n for n in named_queries() if n.startswith("fee_"))


@pytest.fixture(scope="module")
def con(demo_db_path):
    c = db.connect(demo_db_path, read_only=True)
    yield c
    c.close()


def run(con, name, scope=queries.FULL_SCOPE, **params):
    return queries.run(con, name, params, scope)


def paid_by_school(con) -> dict[str, int]:
    return {code: int(fen) for code, fen in rows(
        con, "select school_code, sum(amount_fen)::bigint from payments where school_code is not null group by all")}


# ---- pricing and charging -------------------------------------------------------------------------

def test_every_school_is_charged_at_the_hand_computed_prices(con, demo_frames, demo_world):
    exp = expected_lines(demo_frames, demo_world, demo_standards())
    got = run(con, "fee_lines")
    merged = exp.merge(got, on=["batch_code", "school_code", "level"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert (merged.n == merged.registrations).all()
    assert (merged.unit_fen_x == merged.unit_fen_y).all()
    assert (merged.basis_x == merged.basis_y).all()
    assert (merged.amount_fen_x == merged.amount_fen_y).all()
    assert set(exp.basis) == {"standard", "settled", "provisional"}

    per_school = exp.groupby("school_code").amount_fen.sum()
    bal = run(con, "fee_balances").set_index("school_code")
    assert bal.charged_fen.to_dict() == {k: int(v) for k, v in per_school.items()}


def test_cancelled_registrations_are_not_charged(con, demo_frames):
    regs = pd.concat(demo_frames["registrations"].values(), ignore_index=True)
    cancelled = regs[regs["报名状态"] == "已取消"]
    assert len(cancelled) > 0
    total = int(run(con, "fee_totals").registrations.iat[0])
    assert total == len(regs) - len(cancelled)


def test_price_source_is_kept_on_every_line(con):
    lines = run(con, "fee_lines")
    std = lines[lines.basis != "provisional"]
    docs = {doc for *_, doc in demo.FEE_STANDARDS}
    assert set(std.doc_no) <= docs and std.price_source.map(lambda s: any(d in s for d in docs)).all()
    prov = lines[lines.basis == "provisional"]
    assert prov.doc_no.isna().all() and prov.price_source.str.contains("暂行标准").all()


def test_school_in_a_province_with_a_later_standard_is_refunded_the_difference(con, demo_frames, demo_world):
    """四川省 published 250 / 270 yuan effective 2023-08-01, after both exams of 2023: schools were
    charged 270 / 280 provisionally and are refunded 20 / 10 yuan per registration."""
    province = dict(zip(demo_world.schools.school_code, demo_world.schools.province))
    regs = pd.concat(demo_frames["registrations"].values(), ignore_index=True)
    regs = regs[(regs["报名状态"] == "正常") & (regs["院校代码"].map(province) == "四川省")]
    code = regs["院校代码"].value_counts().index[0]
    mine = regs[regs["院校代码"] == code]
    n1, n2 = int((mine["级别"] == "初级").sum()), int((mine["级别"] == "中级").sum())
    refund = n1 * 2000 + n2 * 1000
    final = n1 * 25000 + n2 * 27000

    row = run(con, "fee_settlement", school=code).iloc[0]
    assert int(row.settlement_fen) == -refund and row.action == "应退"
    assert Decimal(str(row.settlement)) == Decimal(refund) / 100
    assert int(row.provisional_fen) == n1 * 27000 + n2 * 28000 and int(row.final_fen) == final
    assert row.doc_no == "川教函〔2023〕217号"
    bal = run(con, "fee_balances", school=code).iloc[0]
    assert int(bal.charged_fen) == final
    assert int(bal.balance_fen) == paid_by_school(con).get(code, 0) - final
    assert int(bal.settlement_fen) == -refund
    # A province whose standard was in force on the exam day settles nothing.
    gd = run(con, "fee_settlement", province="广东省")
    assert gd.empty


def test_later_standard_above_provisional_is_a_top_up_and_next_year_is_not_settled(fresh_db, demo_frames, demo_world,
                                                                                    tmp_path):
    province = dict(zip(demo_world.schools.school_code, demo_world.schools.province))
    regs = pd.concat(demo_frames["registrations"].values(), ignore_index=True)
    regs = regs[regs["报名状态"] == "正常"].assign(province=lambda d: d["院校代码"].map(province))
    with_std = {p for p, *_ in demo.FEE_STANDARDS}
    free = regs[~regs.province.isin(with_std)].province.value_counts().index[:3].tolist()
    up, next_year, on_day = free
    extra = pd.DataFrame([
        (up, "初级", "2023-10-01", "300.00", "测试〔2023〕1号"), (up, "中级", "2023-10-01", "295.50", "测试〔2023〕1号"),
        (next_year, "初级", "2024-03-01", "200", "测试〔2024〕2号"), (next_year, "中级", "2024-03-01", "210", "测试〔2024〕2号"),
        (on_day, "初级", "2023-05-27", "260", "测试〔2023〕3号"), (on_day, "中级", "2023-05-27", "265", "测试〔2023〕3号"),
    ], columns=["省份", "级别", "生效日期", "金额", "文号"])
    res = import_file(fresh_db, "fee-standards", write_frame(extra, tmp_path / "补充收费标准.csv"))
    assert res.ok and res.added == 6, res.lines()

    def counts(prov, batch=None):
        r = regs[(regs.province == prov) & ((regs["考试批次"] == batch) if batch else True)]
        return int((r["级别"] == "初级").sum()), int((r["级别"] == "中级").sum())

    n1, n2 = counts(up)
    topup = n1 * 3000 + n2 * 1550
    sett = run(fresh_db, "fee_settlement", province=up)
    assert int(sett.settlement_fen.sum()) == topup and set(sett.action) == {"应补"}
    assert int(run(fresh_db, "fee_totals", province=up).settlement_topup_fen.iat[0]) == topup

    assert run(fresh_db, "fee_settlement", province=next_year).empty
    ny = run(fresh_db, "fee_lines", province=next_year)
    assert set(ny.basis) == {"provisional"}
    assert int(ny.amount_fen.sum()) == counts(next_year)[0] * 27000 + counts(next_year)[1] * 28000

    # In force on 2023-05-27 (the 2023-1 exam day itself) and so for 2023-2 as well: no settlement.
    od = run(fresh_db, "fee_lines", province=on_day)
    assert set(od.basis) == {"standard"} and set(od.doc_no) == {"测试〔2023〕3号"}
    assert int(od.amount_fen.sum()) == counts(on_day)[0] * 26000 + counts(on_day)[1] * 26500


def test_latest_standard_before_the_exam_wins(fresh_db, tmp_path):
    """广东省: 240 yuan from 2023-03-01 (demo); a revision from 2023-06-01 applies to 2023-2 only."""
    extra = pd.DataFrame([("广东省", "初级", "2023-06-01", "250", "粤修订〔2023〕9号")],
                         columns=["省份", "级别", "生效日期", "金额", "文号"])
    assert import_file(fresh_db, "fee-standards", write_frame(extra, tmp_path / "修订.csv")).ok
    p = run(fresh_db, "fee_prices", province="广东省").set_index(["batch_code", "level"])
    assert int(p.loc[("2023-1", "初级"), "unit_fen"]) == 24000
    assert int(p.loc[("2023-2", "初级"), "unit_fen"]) == 25000
    assert p.loc[("2023-2", "初级"), "doc_no"] == "粤修订〔2023〕9号"
    assert int(p.loc[("2023-2", "中级"), "unit_fen"]) == 30000


# ---- payments: once per bank reference, queue, assignment ------------------------------------------------

def payment_file(tmp_path, name, lines) -> str:
    frame = pd.DataFrame(lines, columns=["银行流水号", "到账日期", "付款单位", "金额", "备注"])
    return write_frame(frame, tmp_path / name)


def balances(con) -> dict[str, int]:
    return dict(zip(*run(con, "fee_balances")[["school_code", "balance_fen"]].T.values))


def test_a_duplicated_bank_line_is_counted_once(fresh_db, demo_file, tmp_path):
    _, pay_path, _ = demo_file("payments")
    before_all = int(scalar(fresh_db, "select sum(amount_fen)::bigint from payments"))
    before_n = int(scalar(fresh_db, "select count(*) from payments"))
    before_bal = balances(fresh_db)

    again = import_file(fresh_db, "payments", pay_path)
    assert again.ok and again.added == 0 and again.replaced == 0
    assert balances(fresh_db) == before_bal

    ref, day, payer, fen, remark, code = rows(
        fresh_db, "select bank_ref, paid_date, payer, amount_fen, remark, school_code from payments "
                  "where match_method = '付款单位全称' order by bank_ref limit 1")[0]
    name = scalar(fresh_db, "select school_name from schools where school_code = $c", {"c": code})
    second = payment_file(tmp_path, "到账补充.xlsx", [
        (ref, str(day), payer, fen_to_yuan(fen), remark),  # the same bank line again, in another file
        ("9999202306300001", "2023-06-30", name, "123.45", "1+X 考核费用"),
    ])
    res = import_file(fresh_db, "payments", second)
    assert res.ok and res.added == 1 and res.unchanged == 1, res.summary()
    totals = run(fresh_db, "fee_payment_totals").iloc[0]
    assert int(totals.payments) == before_n + 1
    assert int(totals.all_fen) == before_all + 12345
    after = balances(fresh_db)
    assert after[code] == before_bal[code] + 12345
    assert {k: v for k, v in after.items() if k != code} == {k: v for k, v in before_bal.items() if k != code}

    # Twice in one file is refused outright.
    dup = payment_file(tmp_path, "重复.csv", [("8888", "2023-06-30", name, "1", "x"), ("8888", "2023-06-30", name, "1", "x")])
    assert not import_file(fresh_db, "payments", dup).ok


def test_an_unmatched_payment_changes_no_balance_until_assigned(fresh_db, tmp_path):
    before = balances(fresh_db)
    queue_before = run(fresh_db, "fee_unmatched")
    version0 = db.data_version(fresh_db)
    path = payment_file(tmp_path, "到账_个人.csv", [("7777202306200001", "2023-06-20", "张三", "543.21", "考试费")])
    assert import_file(fresh_db, "payments", path).ok
    assert balances(fresh_db) == before
    queue = run(fresh_db, "fee_unmatched")
    assert len(queue) == len(queue_before) + 1 and "7777202306200001" in set(queue.bank_ref)

    code = "01000" if "01000" in before else sorted(before)[0]
    v1 = db.data_version(fresh_db)
    fees.assign_payment(fresh_db, "7777202306200001", code, "staff", note="电话核实")
    after = balances(fresh_db)
    assert after[code] == before[code] + 54321
    assert {k: v for k, v in after.items() if k != code} == {k: v for k, v in before.items() if k != code}
    assert "7777202306200001" not in set(run(fresh_db, "fee_unmatched").bank_ref)
    assert db.data_version(fresh_db) > v1 > version0
    actor, target, detail = rows(fresh_db, "select actor, target, detail from audit_log "
                                           "where action = 'assign_payment' order by audit_id desc limit 1")[0]
    assert (actor, target) == ("staff", "7777202306200001")
    assert json.loads(detail) == {"from": None, "to": code, "amount_fen": 54321, "note": "电话核实"}

    # A corrected bank file (same 流水号, new remark) replaces the line but keeps the staff decision.
    fixed = payment_file(tmp_path, "到账_更正.csv", [("7777202306200001", "2023-06-20", "张三", "543.21", "考试费（更正）")])
    res = import_file(fresh_db, "payments", fixed)
    assert res.ok and res.replaced == 1
    assert balances(fresh_db) == after
    assert scalar(fresh_db, "select match_method from payments where bank_ref = '7777202306200001'") == "人工指定"


def test_assign_refuses_unknown_payment_or_school(fresh_db):
    ref = scalar(fresh_db, "select bank_ref from payments where school_code is null order by bank_ref limit 1")
    snapshot = balances(fresh_db)
    with pytest.raises(ValueError, match="院校代码"):
        fees.assign_payment(fresh_db, ref, "NO-SUCH", "staff")
    with pytest.raises(ValueError, match="银行流水号"):
        fees.assign_payment(fresh_db, "NO-SUCH", "01000", "staff")
    assert balances(fresh_db) == snapshot


def test_demo_queue_holds_the_unrecognisable_and_the_ambiguous(con):
    queue = run(con, "fee_unmatched")
    assert set(queue.match_method) == {"未匹配", "多个院校匹配"}
    ambiguous = queue[queue.match_method == "多个院校匹配"]
    assert len(ambiguous) and ambiguous.match_note.str.startswith("候选：").all()
    # Every remark of the form "<name>职院" names two schools (…职业学院 and …职业技术学院).
    for r in ambiguous.itertuples():
        assert len(r.match_note.split("、")) >= 2


SCHOOLS = pd.DataFrame({
    "school_code": ["A1", "A2", "B1", "C1", "D1"],
    "school_name": ["广州信息职业技术学院", "广州职业学院", "北京职业技术学院", "北京职业学院", "保定商业学校"],
})


@pytest.mark.parametrize("payer, remark, code, method", [
    ("广州信息职业技术学院", "1+X考核费用", "A1", "付款单位全称"),
    ("广州信息职业技术学院　", "", "A1", "付款单位全称"),  # full-width space
    ("广州信息职业技术学院（财务处）", "", "A1", "备注含全称"),
    ("广州信息 职院", "", "A1", "付款单位规范化名称"),
    ("张三", "广州信息职业技术学院1+X考核费", "A1", "备注含全称"),
    ("张三", "广州信息职院 1+x考核费", "A1", "规范化名称"),
    ("张三", "ＧＺ 保定商业学校 考试费", "D1", "备注含全称"),
    ("张三", "北京职院 1+x考核费", None, "多个院校匹配"),
    ("广州职业学院", "广州信息职业技术学院 考核费", None, "付款单位与备注不一致"),
    ("张三", "考试费", None, "未匹配"),
    ("李四", "", None, "未匹配"),
])
def test_match_one(payer, remark, code, method):
    got_code, got_method, conf = fees.match_one(payer, remark, SCHOOLS)
    assert (got_code, got_method) == (code, method)
    assert (conf > 0) == (code is not None)


def test_match_confidence_orders_the_methods():
    conf = {m: fees.match_one(p, r, SCHOOLS)[2] for p, r, m in [
        ("广州信息职业技术学院", "", "exact"), ("广州信息 职院", "", "payer_norm"),
        ("张三", "广州信息职业技术学院", "remark"), ("张三", "广州信息职院", "norm")]}
    assert conf["exact"] > conf["payer_norm"] > conf["remark"] > conf["norm"] > 0


# ---- balances per batch -------------------------------------------------------------------------------

def test_batches_add_up_to_the_whole_and_older_batches_are_paid_first(con):
    whole = run(con, "fee_balances").set_index("school_code")
    parts = pd.concat([run(con, "fee_balances", batch=b) for b in EXAM_DATE])
    summed = parts.groupby("school_code")[["charged_fen", "paid_fen", "balance_fen"]].sum()
    assert summed.astype("int64").to_dict() == whole[["charged_fen", "paid_fen", "balance_fen"]].astype("int64").to_dict()
    per = run(con, "fee_school_batches")
    school_paid = paid_by_school(con)
    for code, grp in per.groupby("school_code"):
        total = school_paid.get(code, 0)
        g = grp.set_index("batch_code")
        if len(g) == 2:
            first = min(int(g.loc["2023-1", "charged_fen"]), max(0, total))
            assert int(g.loc["2023-1", "paid_fen"]) == first, code
            assert int(g.loc["2023-2", "paid_fen"]) == total - first, code
        else:
            assert int(g.paid_fen.iat[0]) == total, code
    t1, t2, tall = (run(con, "fee_totals", batch=b).iloc[0] for b in ("2023-1", "2023-2", None))
    assert int(t1.balance_fen) + int(t2.balance_fen) == int(tall.balance_fen)


def test_payments_cover_batches_oldest_exam_first(fresh_db, tmp_path):
    """Three batches: what a school paid covers 2023-1 in full, then part of 2023-2, nothing of the third."""
    code, name = rows(fresh_db, "select s.school_code, s.school_name from schools s join registrations r using (school_code) "
                                "where r.batch_code = '2023-2' group by all order by count(*) desc limit 1")[0]
    with db.transaction(fresh_db) as cur:
        cur.execute("insert into batches select '2023-3', '2023年第三次（测试）', date '2023-11-18', date '2023-10-30', "
                    "date '2023-12-04', date '2023-12-10', date '2023-12-11'")
        cur.execute("insert into registrations by name select * replace ('2023-3' as batch_code) from registrations "
                    "where batch_code = '2023-2' and school_code = $c", {"c": code})
    charged = {b: int(scalar(fresh_db, "select sum(amount_fen)::bigint from fee_priced_lines where batch_code = $b "
                                       "and school_code = $c", {"b": b, "c": code})) for b in ("2023-1", "2023-2", "2023-3")}
    paid_now = paid_by_school(fresh_db).get(code, 0)
    target = charged["2023-1"] + charged["2023-2"] // 2
    path = payment_file(tmp_path, "补缴.csv", [("4444202307010001", "2023-07-01", name, fen_to_yuan(target - paid_now), "")])
    assert import_file(fresh_db, "payments", path).ok
    got = {b: int(run(fresh_db, "fee_balances", batch=b, school=code).paid_fen.iat[0]) for b in charged}
    assert got == {"2023-1": charged["2023-1"], "2023-2": charged["2023-2"] // 2, "2023-3": 0}
    assert int(run(fresh_db, "fee_balances", school=code).paid_fen.iat[0]) == target


def test_a_school_that_paid_with_no_charges_is_in_credit(fresh_db, tmp_path):
    school = pd.DataFrame([("99001", "测试新建职业学院", "江苏省", "高职", "是")],
                          columns=["院校代码", "院校名称", "省份", "类型", "是否试点"])
    assert import_file(fresh_db, "schools", write_frame(school, tmp_path / "新院校.csv")).ok
    path = payment_file(tmp_path, "预缴.csv", [("6666202306010001", "2023-06-01", "测试新建职业学院", "1000", "预缴")])
    assert import_file(fresh_db, "payments", path).ok
    row = run(fresh_db, "fee_balances", school="99001").iloc[0]
    assert (int(row.charged_fen), int(row.paid_fen), int(row.balance_fen), row.status) == (0, 100000, 100000, "有结余")
    latest = scalar(fresh_db, "select batch_code from batches order by exam_date desc limit 1")
    assert int(run(fresh_db, "fee_balances", batch=latest, school="99001").balance_fen.iat[0]) == 100000
    assert run(fresh_db, "fee_balances", batch="2023-1", school="99001").empty


# ---- statements ---------------------------------------------------------------------------------


def test_statement_has_lines_with_price_source_payments_and_balance(con):
    code = run(con, "fee_settlement").school_code.iat[0]
    wb = openpyxl.load_workbook(io.BytesIO(statement_xlsx(con, code)))
    assert wb.sheetnames == ["汇总", "汇款信息", "分批次", "报名费用明细", "到账记录", "计费规则"]
    lines = sheet(wb, "报名费用明细")
    body = lines[lines["考试批次"] != TOTAL]
    expected = run(con, "fee_lines", school=code)
    assert len(body) == len(expected)
    assert body["单价来源（文号或暂行标准）"].str.contains("川教函|闽教职成|教职成").all()
    assert sum(fen(v) for v in body["应缴（元）"]) == int(expected.amount_fen.sum())
    assert sum(fen(v) for v in body["多退少补（元）"]) == int(expected.settlement_fen.sum()) < 0
    summary = sheet(wb, "汇总").set_index("项目")
    bal = run(con, "fee_balances", school=code).iloc[0]
    assert fen(summary.loc["余额", "金额（元）"]) == int(bal.balance_fen)
    pays = sheet(wb, "到账记录")
    assert sum(fen(v) for v in pays[pays["银行流水号"] != TOTAL]["金额（元）"]) == int(bal.paid_fen)
    assert len(sheet(wb, "计费规则")) == len(fees.RULES) == 5


# ---- scope and exactness -------------------------------------------------------------------------

@pytest.mark.parametrize("name", FEE_QUERIES)
def test_school_scope_never_returns_another_schools_rows(con, name):
    own, other = [r[0] for r in rows(con, "select school_code from users where role = 'school' order by username")][:2]
    other_prov = scalar(con, "select province from schools where school_code = $c", {"c": other})
    q = named_queries()[name]
    params = {k: v for k, v in {"school": other, "province": other_prov, "batch": None}.items() if k in q.params}
    scope = queries.Scope(role="school", school_code=own)
    if not q.scoped:
        assert q.access == "all" and "school_code" not in run(con, name, scope, **params)
        return
    df = run(con, name, scope, **params)
    if "school_code" in df:
        assert set(df.school_code.dropna()) <= {own}
    mine = run(con, name, scope, **{k: v for k, v in params.items() if k == "batch"})
    if "school_code" in mine:
        assert set(mine.school_code.dropna()) <= {own}
    if name == "fee_unmatched":
        assert mine.empty  # the queue names other payers: staff only
    if name in ("fee_balances", "fee_lines", "fee_payment_list"):
        assert len(mine) > 0


def test_school_scoped_statement_holds_only_the_school(con):
    own, other = [r[0] for r in rows(con, "select school_code from users where role = 'school' order by username")][:2]
    scope = queries.Scope(role="school", school_code=own)

    def scoped(name, **params):
        return queries.run(con, name, params, scope)

    wb = openpyxl.load_workbook(io.BytesIO(statement_xlsx(scoped, other)))
    for name in ("分批次", "报名费用明细", "到账记录"):
        body = sheet(wb, name)
        assert (body.iloc[:, 0] == TOTAL).all(), f"{name} shows another school's rows"
    assert fen(sheet(wb, "汇总").set_index("项目").loc["应缴合计", "金额（元）"]) == 0


def test_money_is_exact_integer_fen(con, fresh_db, tmp_path):
    for name in ("fee_balances", "fee_lines", "fee_totals", "fee_by_province", "fee_school_batches", "fee_payment_totals"):
        df = run(con, name)
        for col in [c for c in df.columns if c.endswith("_fen")]:
            assert str(df[col].dtype) in ("int64", "Int64"), (name, col, df[col].dtype)
    bal = run(con, "fee_balances")
    assert all(Decimal(str(y)).quantize(Decimal("0.01")) == Decimal(f) / 100 for y, f in zip(bal.balance, bal.balance_fen))
    assert [yuan_text(v) for v in (0, 5, -5, 123456789, -100)] == ["0.00", "0.05", "-0.05", "1,234,567.89", "-1.00"]
    assert str(yuan(-123450)) == "-1234.50" and yuan(10) == Decimal("0.10")

    # Ten payments of 0.10 and twenty of 0.20 yuan (floats would drift) make exactly 5.00 yuan.
    name = scalar(fresh_db, "select school_name from schools order by school_code limit 1")
    code = scalar(fresh_db, "select school_code from schools order by school_code limit 1")
    lines = [(f"5555{i:04d}", "2023-06-01", name, "0.1" if i < 10 else "0.20", "1+X") for i in range(30)]
    before = balances(fresh_db).get(code, 0)
    assert import_file(fresh_db, "payments", payment_file(tmp_path, "零钱.csv", lines)).ok
    assert balances(fresh_db)[code] - before == 500
    assert yuan_text(balances(fresh_db)[code] - before) == "5.00"


def test_a_remark_written_by_the_payees_rule_names_its_school(fresh_db, tmp_path):
    """A transfer from a person (no school as payer) whose remark follows the notice's rule goes to the
    school it names; a school's own transfer naming another school by the rule waits for staff."""
    payee = plan.load_plan().payee
    schools = run(fresh_db, "fee_balances")[["school_code", "school_name"]].head(2).values.tolist()
    (code_a, name_a), (code_b, name_b) = schools
    path = payment_file(tmp_path, "到账_规则.csv", [
        ("5555202306200001", "2023-06-20", "李四", "100.00", payee.remark_for(name_a)),
        ("5555202306200002", "2023-06-20", name_a, "200.00", payee.remark_for(name_b)),
        ("5555202306200003", "2023-06-20", "王五", "300.00", "考核费用"),
    ])
    assert import_file(fresh_db, "payments", path).ok
    got = {r[0]: r[1:] for r in rows(fresh_db, "select bank_ref, school_code, match_method from payments "
                                                "where bank_ref like '5555%'")}
    assert got["5555202306200001"] == (code_a, "备注符合付款规则")
    assert got["5555202306200002"] == (None, "付款单位与备注不一致")
    assert got["5555202306200003"] == (None, "未匹配")
    # the matcher reads the rule from the plan's payee: without it the same remark is only "contains the name"
    frame = pd.DataFrame({"school_code": [code_a], "school_name": [name_a]})
    assert fees.match_one("李四", payee.remark_for(name_a), frame)[1] == "备注含全称"
    assert fees.match_one("李四", payee.remark_for(name_a), frame, payee.remark)[1] == "备注符合付款规则"
