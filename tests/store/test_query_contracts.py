"""Every named query keeps the contract its header declares, on the demo store: the `key` columns are
there, never null and unique (or the result is at most one row), with only the required parameters,
with every filter set, and in a school's scope. And the fee queries reconcile with each other."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from helpers import BATCH, rows

from examdash.store import queries
from examdash.store.queries import Scope
from examdash.store.sql_files import SqlFile, get_query, named_queries

NAMES = sorted(named_queries())


@pytest.fixture(scope="module")
def sample(demo_ro) -> dict:
    """A value for every parameter any query takes, picked so that the filtered results are not empty: the
    school with the most review items, its province, its busiest site, a ticket of it under review."""
    school, ticket = rows(demo_ro, "select r.school_code, min(i.ticket_no) from review_requests r "
                                   "join review_items i using (request_id) where r.batch_code = $b "
                                   "group by 1 order by count(*) desc, 1 limit 1", {"b": BATCH})[0]
    province = rows(demo_ro, "select province from schools where school_code = $s", {"s": school})[0][0]
    site = rows(demo_ro, "select site_code from registrations where batch_code = $b and school_code = $s "
                         "group by 1 order by count(*) desc, 1 limit 1", {"b": BATCH, "s": school})[0][0]
    id_tail = rows(demo_ro, "select right(id_no, 6) from registrations where batch_code = $b and ticket_no = $t",
                   {"b": BATCH, "t": ticket})[0][0]
    return {"batch": BATCH, "school": school, "ticket": ticket, "province": province, "site": site,
            "level": "中级", "candidate_type": "在校生", "today": dt.date(2023, 7, 1), "since": dt.date(2020, 1, 1),
            "limit": 1000, "action": "import", "actor": "demo", "id_tail": id_tail, "status": "缺考"}


def key_problems(df: pd.DataFrame, q: SqlFile) -> list[str]:
    """What in a result breaks the query's declared key."""
    if q.one_row:
        return [f"{len(df)} rows where at most one was declared"] if len(df) > 1 else []
    missing = [c for c in q.key if c not in df.columns]
    if missing:
        return [f"key columns {missing} not in the result {list(df.columns)}"]
    problems = []
    nulls = df[list(q.key)].isna().any(axis=1)
    if nulls.any():
        problems.append(f"{int(nulls.sum())} rows with an empty key, e.g. {df[nulls].head(3).to_dict('records')}")
    dup = df.duplicated(list(q.key), keep=False)
    if dup.any():
        problems.append(f"{int(dup.sum())} rows share a key, e.g. {df[dup][list(q.key)].head(4).to_dict('records')}")
    return problems


def test_every_analytic_query_declares_a_key():
    for name in NAMES:
        q = get_query(name)
        assert q.one_row or q.key, name


@pytest.mark.parametrize("name", NAMES)
def test_the_key_holds_with_the_required_parameters(demo_ro, sample, name):
    q = get_query(name)
    df = queries.run(demo_ro, name, {p: sample[p] for p in q.required})
    assert key_problems(df, q) == []


@pytest.mark.parametrize("name", NAMES)
def test_the_key_holds_with_every_filter_set(demo_ro, sample, name):
    q = get_query(name)
    df = queries.run(demo_ro, name, {p: sample[p] for p in q.params})
    assert key_problems(df, q) == []


@pytest.mark.parametrize("name", [n for n in NAMES if get_query(n).scoped])
def test_the_key_holds_in_a_schools_scope(demo_ro, sample, name):
    q = get_query(name)
    scope = Scope(role="school", school_code=sample["school"], username="probe")
    df = queries.run(demo_ro, name, {p: sample[p] for p in q.required}, scope)
    assert key_problems(df, q) == []
    if "school_code" in df.columns:
        assert set(df.school_code.dropna()) <= {sample["school"]}


def test_most_queries_return_rows_on_the_demo(demo_ro, sample):
    """The checks above look at real rows: on the demo, all but a few queries return several."""
    sizes = {n: len(queries.run(demo_ro, n, {p: sample[p] for p in get_query(n).required})) for n in NAMES}
    # the site queries need a site ($scope_site for a 考点 account, $site for staff)
    sizes |= {n: len(queries.run(demo_ro, n, {p: sample[p] for p in get_query(n).params})) for n in NAMES
              if get_query(n).site_scoped}
    many = [n for n in NAMES if not get_query(n).one_row]  # a one-row query returns one row by its contract
    several = {n for n in many if sizes[n] > 1}
    assert len(several) >= len(many) - 6, {n: s for n, s in sizes.items() if s <= 1 and n in many}


def test_the_check_finds_a_broken_key():
    q = SqlFile(name="probe", path=None, purpose="", grain="", required=frozenset(), optional=frozenset(),
                scoped=False, access="staff", sql="", key=("school_code", "level"))
    good = pd.DataFrame({"school_code": ["1", "1", "2"], "level": ["初级", "中级", "初级"]})
    assert key_problems(good, q) == []
    twice = pd.concat([good, good.iloc[[0]]])
    assert "2 rows share a key" in key_problems(twice, q)[0]
    blank = good.assign(level=["初级", None, "初级"])
    assert "1 rows with an empty key" in key_problems(blank, q)[0]
    assert "not in the result" in key_problems(good.drop(columns="level"), q)[0]
    one = SqlFile(**{**q.__dict__, "key": (), "one_row": True})
    assert key_problems(good, one) == ["3 rows where at most one was declared"]


# --- the fee queries against each other -------------------------------------------------------------------


def fen_sum(df: pd.DataFrame, col: str) -> int:
    return int(df[col].fillna(0).sum())


@pytest.mark.parametrize("batch", [None, BATCH, "2023-2"])
def test_fee_queries_reconcile(demo_ro, batch):
    """Balances summed over schools = totals = by province; charges = the sum of fee lines; payments
    matched to schools = the payment list; matched + unmatched = every bank line."""
    run = lambda name, **p: queries.run(demo_ro, name, {k: v for k, v in p.items() if k in get_query(name).params})
    balances = run("fee_balances", batch=batch)
    totals = run("fee_totals", batch=batch).iloc[0]
    provinces = run("fee_by_province", batch=batch)
    lines = run("fee_lines", batch=batch)
    settled = run("fee_settlement", batch=batch)
    for col in ("charged_fen", "paid_fen", "balance_fen"):
        assert fen_sum(balances, col) == int(totals[col]) == fen_sum(provinces, col), col
    assert fen_sum(balances, "charged_fen") == fen_sum(lines, "amount_fen")
    assert int(totals.registrations) == fen_sum(balances, "registrations") == fen_sum(lines, "registrations")
    assert int(totals.owed_fen) == -int(balances.balance_fen[balances.balance_fen < 0].sum())
    assert int(totals.credit_fen) == int(balances.balance_fen[balances.balance_fen > 0].sum())
    assert int(totals.schools_owing) == int((balances.balance_fen < 0).sum())
    assert fen_sum(balances, "settlement_fen") == fen_sum(lines, "settlement_fen") == fen_sum(settled, "settlement_fen")
    assert int(totals.settlement_topup_fen) - int(totals.settlement_refund_fen) == fen_sum(settled, "settlement_fen")
    if batch is None:
        pay = run("fee_payment_totals").iloc[0]
        listed = run("fee_payment_list")
        unmatched = run("fee_unmatched")
        assert int(pay.matched_fen) == fen_sum(listed, "amount_fen") == fen_sum(balances, "paid_fen")
        assert int(pay.matched) == len(listed) and int(pay.unmatched) == len(unmatched)
        assert int(pay.unmatched_fen) == fen_sum(unmatched, "amount_fen")
        assert int(pay.all_fen) == int(pay.matched_fen) + int(pay.unmatched_fen)
        assert int(pay.all_fen) == rows(demo_ro, "select sum(amount_fen)::bigint from payments")[0][0]
