"""Security: a 考点 account sees what sits at its own site and nothing else: every named query is site-scoped,
refused or reference data; its school's candidates who sit elsewhere, other sites and any school's fees
stay out of reach, through queries and pages."""

from __future__ import annotations

import pytest
from helpers import ROOT, login, page_as
from streamlit.testing.v1 import AppTest

from examdash.domain import auth
from examdash.store import queries
from examdash.store.sql_files import named_queries
from examdash.web import navigation

PERSONAL = {"id_no", "name", "ticket_no"}


@pytest.fixture(scope="module")
def site1(demo_ro):
    user = auth.reload_user(demo_ro, "site1")
    assert user is not None and user.role == "site" and user.site_code
    return user


def _values(con, site_code: str) -> dict:
    other_site = con.execute("select site_code from sites where site_code <> $s order by site_code limit 1",
                             {"s": site_code}).fetchall()[0][0]
    school = con.execute("select school_code from results where site_code = $s and batch_code = '2023-1' limit 1",
                         {"s": other_site}).fetchall()[0][0]
    return {"batch": "2023-1", "site": other_site, "school": school, "school_code": school, "ticket": "X",
            "id_tail": "000000", "province": None, "since": "2000-01-01", "today": "2023-06-14"}


def test_every_named_query_is_site_scoped_refused_or_reference_data(demo_ro, site1):
    values = _values(demo_ro, site1.site_code)
    at_site = {r[0] for r in demo_ro.execute("select id_no from registrations where site_code = $s",
                                             {"s": site1.site_code}).fetchall()}
    ran = refused = 0
    for name, q in named_queries().items():
        params = {p: values.get(p) for p in q.params}
        if q.site_scoped:
            df = queries.run(demo_ro, name, params, site1.scope)  # $site names another site: the scope wins
            assert len(df) or name == "room_plan", name  # no rooms arranged yet in the demo
            if "site_code" in df:
                assert set(df.site_code.dropna()) <= {site1.site_code}, f"{name} leaked another site"
            if "id_no" in df:
                assert set(df.id_no) <= at_site, f"{name} leaked candidates who sit elsewhere"
            ran += 1
        elif q.access == "all":
            df = queries.run(demo_ro, name, params, site1.scope)
            assert not (PERSONAL & set(df.columns)), name
        else:
            with pytest.raises(PermissionError):
                queries.run(demo_ro, name, params, site1.scope)
            refused += 1
    assert ran >= 3 and refused >= 20
    school_fees = [n for n, q in named_queries().items() if n.startswith("fee_") and q.access != "all"]
    assert {"fee_balances", "fee_lines", "fee_payment_list"} <= set(school_fees)
    for fee_query in school_fees:
        with pytest.raises(PermissionError):
            queries.run(demo_ro, fee_query, {p: values.get(p) for p in named_queries()[fee_query].params}, site1.scope)


def test_the_sites_school_candidates_who_sit_elsewhere_are_not_listed(demo_ro, site1):
    host = demo_ro.execute("select school_code from sites where site_code = $s", {"s": site1.site_code}).fetchall()[0][0]
    elsewhere = {r[0] for r in demo_ro.execute(
        "select ticket_no from results where batch_code = '2023-1' and school_code = $h and site_code <> $s",
        {"h": host, "s": site1.site_code}).fetchall()}
    listed = queries.run(demo_ro, "site_candidates", {"batch": "2023-1", "site": None}, site1.scope)
    assert elsewhere, "the demo's site has no candidates of its school sitting elsewhere to test with"
    assert not elsewhere & set(listed.ticket_no)
    assert set(listed.origin) == {"本校", "借考", "社会考生"}
    others = listed[listed.origin == "借考"]
    assert others.theory.isna().all() and others.passed.isna().all()  # other schools' scores stay with them


def test_the_site_menu_has_its_page_only_and_organiser_or_school_pages_refuse(app_env, demo_db_con):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    login(at, "site1")
    assert not at.exception
    assert at.title[0].value.startswith("本考点 · ")
    assert [p.stem for p in navigation.pages_for("site")] == ["site", "rooms"]
    for stem in ("fees", "school_fees", "scores", "school"):
        with pytest.raises(ValueError):
            at.switch_page(f"app_pages/{stem}.py").run()
        alone = page_as(stem, "site1", demo_db_con)
        assert not alone.dataframe and not alone.metric, stem


def test_a_site_account_moved_to_another_site_is_signed_out(fresh_db):
    from examdash import web
    from examdash.store import db

    user = auth.reload_user(fresh_db, "site1")
    assert web.account_problem(fresh_db, user) is None
    with db.transaction(fresh_db) as cur:
        cur.execute("update users set site_code = (select min(site_code) from sites where site_code <> $s) "
                    "where username = 'site1'", {"s": user.site_code})
    assert web.account_problem(fresh_db, user) == "账号权限已变更"


@pytest.mark.parametrize("candidate_type", ["在校生", "社会考生"])
def test_another_schools_candidate_reaches_the_site_as_figures_whatever_the_candidate_type(fresh_db, candidate_type):
    """A registration at the site under another school's 院校代码 is that school's: no score, no verdict for the
    site account, whether it says 在校生 or 社会考生; one under the site's own school shows in full either way."""
    from examdash.store import db

    site = auth.reload_user(fresh_db, "site1")
    host = fresh_db.execute("select school_code from sites where site_code = $s", {"s": site.site_code}).fetchall()[0][0]
    scored = ("select ticket_no from results where batch_code = '2023-1' and site_code = $s and total is not null "
              "and school_code {} $h order by ticket_no limit 1")
    other = fresh_db.execute(scored.format("<>"), {"s": site.site_code, "h": host}).fetchall()[0][0]
    own = fresh_db.execute(scored.format("="), {"s": site.site_code, "h": host}).fetchall()[0][0]
    with db.transaction(fresh_db) as cur:
        cur.execute("update registrations set candidate_type = $t where batch_code = '2023-1' and ticket_no in ($a, $b)",
                    {"t": candidate_type, "a": other, "b": own})
        db.rebuild_results(cur, ["2023-1"])
    listed = queries.run(fresh_db, "site_candidates", {"batch": "2023-1", "site": None}, site.scope).set_index("ticket_no")
    assert listed.at[other, "candidate_type"] == candidate_type
    assert listed.at[other, "origin"] == "借考" and not listed.at[other, "own"]
    assert listed.loc[[other], ["theory", "practical", "total", "passed"]].isna().all(axis=None)
    assert listed.at[own, "own"] and listed.at[own, "total"] is not None and listed.at[own, "passed"] is not None
    assert listed.at[own, "origin"] == ("社会考生" if candidate_type == "社会考生" else "本校")
