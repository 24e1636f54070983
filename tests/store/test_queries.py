"""The analytics queries against pandas computed from the demo export files (never from the warehouse)."""

from __future__ import annotations

import io

import analytics_expected as ex
import numpy as np
import pandas as pd
import pytest
from helpers import BATCH

from examdash import cli
from examdash.store import queries
from examdash.store.queries import Scope
from examdash.views import common, scores
from examdash.views.common import Filters

TEXT = {c: "str" for c in ("site_code", "school_code", "ticket_no", "id_no", "host_school_code")}


@pytest.fixture(scope="module")
def con(demo_ro):
    return demo_ro


def q(con, name, scope=queries.FULL_SCOPE, **params):
    return queries.run(con, name, params, scope)


def cli_csv(capsys, demo_db_path, name: str, *params: str) -> pd.DataFrame:
    argv = ["--db", str(demo_db_path), "query", name, "--format", "csv"]
    for p in params:
        argv += ["--param", p]
    assert cli.main(argv) == 0
    return pd.read_csv(io.StringIO(capsys.readouterr().out), dtype=TEXT)


def by_key(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return df.sort_values(keys).reset_index(drop=True)


def test_registrations_by_site_cli_matches_pandas(capsys, demo_db_path, cand):
    got = cli_csv(capsys, demo_db_path, "registrations_by_site", f"batch={BATCH}")
    assert list(got.columns[:5]) == ["site_code", "site_name", "province", "level", "registered"]
    d = ex.select(cand, BATCH)
    want = d.groupby(["site_code", "site_name", "site_province", "level"]).size().rename("registered").reset_index()
    want = want.rename(columns={"site_province": "province"})
    pd.testing.assert_frame_equal(by_key(got.iloc[:, :5], ["site_code", "level"]),
                                  by_key(want, ["site_code", "level"]), check_dtype=False)
    assert got.registered.sum() == len(d) > 1000


def test_registrations_by_site_level_param(capsys, demo_db_path, cand):
    got = cli_csv(capsys, demo_db_path, "registrations_by_site", f"batch={BATCH}", "level=中级")
    assert set(got.level) == {"中级"}
    want = ex.select(cand, BATCH, level="中级").groupby("site_code").size()
    assert got.set_index("site_code").registered.sort_index().tolist() == want.sort_index().tolist()


def test_pass_rates_by_level_cli_matches_pandas(capsys, demo_db_path, cand):
    got = cli_csv(capsys, demo_db_path, "pass_rates_by_level", f"batch={BATCH}")
    assert list(got.columns[:5]) == ["level", "registered", "sat", "passed", "pass_rate"]
    want = ex.rates(ex.select(cand, BATCH), ["level"])
    g = by_key(got, ["level"])
    w = by_key(want, ["level"])
    assert g.level.tolist() == w.level.tolist() == ["中级", "初级"]
    for c in ("registered", "sat", "passed"):
        assert g[c].tolist() == w[c].astype(int).tolist(), c
    assert np.allclose(g.pass_rate, w.pass_rate)
    assert ((g.pass_rate > 0) & (g.pass_rate < 1)).all()


def test_pass_rates_by_school_cli_matches_pandas(capsys, demo_db_path, cand):
    got = cli_csv(capsys, demo_db_path, "pass_rates_by_school", f"batch={BATCH}")
    assert list(got.columns[:7]) == ["school_code", "school_name", "level", "registered", "sat", "passed", "pass_rate"]
    want = ex.rates(ex.select(cand, BATCH), ["school_code", "school_name", "level"])
    g, w = by_key(got, ["school_code", "level"]), by_key(want, ["school_code", "level"])
    assert g.school_code.tolist() == w.school_code.tolist()
    assert g.school_name.tolist() == w.school_name.tolist()
    assert g.school_code.str.startswith("0").any()  # codes kept as text, leading zeros and all
    for c in ("registered", "sat", "passed"):
        assert g[c].tolist() == w[c].astype(int).tolist(), c
    assert np.allclose(g.pass_rate.fillna(-1), w.pass_rate.fillna(-1))


def test_attendance_by_site_cli_matches_pandas(capsys, demo_db_path, cand):
    got = cli_csv(capsys, demo_db_path, "attendance_by_site", f"batch={BATCH}")
    assert list(got.columns[:5]) == ["site_code", "site_name", "registered", "present", "absent"]
    want = ex.attendance(ex.select(cand, BATCH), "site_code")
    g, w = by_key(got, ["site_code"]), by_key(want, ["site_code"])
    for c in ("site_code", "registered", "present", "absent", "violations"):
        assert g[c].tolist() == w[c].tolist(), c
    assert g.absent.sum() > 0 and g.violations.sum() > 0
    assert (g.registered == g.present + g.absent + g.unrecorded).all()


FILTER_CASES = [
    {},
    {"level": "初级"},
    {"province": "广东省"},
    {"candidate_type": "社会考生"},
    {"level": "中级", "province": "江苏省", "candidate_type": "在校生"},
]


@pytest.mark.parametrize("batch", ["2023-1", "2023-2"])
@pytest.mark.parametrize("flt", FILTER_CASES, ids=lambda f: "-".join(f.values()) or "all")
def test_pass_rates_follow_filters(con, cand, batch, flt):
    d = ex.select(cand, batch, **flt)
    assert len(d) > 0
    got = q(con, "pass_rates_by_level", batch=batch, **flt)
    want = ex.rates(d, ["level"])
    assert by_key(got, ["level"])[["registered", "sat", "passed"]].values.tolist() == \
        by_key(want, ["level"])[["registered", "sat", "passed"]].astype(int).values.tolist()
    prov = q(con, "pass_rates_by_province", batch=batch, **flt)
    wprov = ex.rates(d, ["province", "level"])
    assert by_key(prov, ["province", "level"])[["province", "registered", "sat", "passed"]].values.tolist() == \
        by_key(wprov, ["province", "level"])[["province", "registered", "sat", "passed"]].values.tolist()
    site = q(con, "pass_rates_by_site", batch=batch, **flt)
    wsite = ex.rates(d, ["site_code", "level"])
    assert by_key(site, ["site_code", "level"])[["site_code", "sat", "passed"]].values.tolist() == \
        by_key(wsite, ["site_code", "level"])[["site_code", "sat", "passed"]].values.tolist()
    assert set(got.pass_rule) == {ex.pass_rules()[(batch, lv)] for lv in got.level}


def test_one_site_and_one_school_filters(con, cand):
    site = cand[cand.batch == BATCH].site_code.value_counts().index[0]
    school = cand[cand.batch == BATCH].school_code.value_counts().index[0]
    for flt in ({"site": site}, {"school": school}):
        d = ex.select(cand, BATCH, **flt)
        got = q(con, "attendance_by_school", batch=BATCH, **flt)
        want = ex.attendance(d, "school_code")
        assert by_key(got, ["school_code"])[["school_code", "registered", "present", "absent"]].values.tolist() == \
            by_key(want, ["school_code"])[["school_code", "registered", "present", "absent"]].values.tolist()
        assert q(con, "candidate_scores", batch=BATCH, **flt).shape[0] == len(d)


def test_registration_counts_by_school_province_type(con, cand):
    d = ex.select(cand, BATCH)
    school = q(con, "registrations_by_school", batch=BATCH)
    want = d.groupby(["school_code", "level"]).agg(
        registered=("id_no", "size"), social=("candidate_type", lambda s: int((s == "社会考生").sum()))).reset_index()
    got = by_key(school, ["school_code", "level"])[["school_code", "level", "registered", "social"]]
    assert got.values.tolist() == by_key(want, ["school_code", "level"]).values.tolist()
    prov = q(con, "registrations_by_province", batch=BATCH)
    wprov = d.groupby(["province", "level"]).size().rename("registered").reset_index()
    assert by_key(prov, ["province", "level"]).values.tolist() == by_key(wprov, ["province", "level"]).values.tolist()
    typ = q(con, "registrations_by_type", batch=BATCH)
    wtyp = d.groupby(["level", "candidate_type"]).size().rename("registered").reset_index()
    assert by_key(typ, ["level", "candidate_type"]).values.tolist() == \
        by_key(wtyp, ["level", "candidate_type"]).values.tolist()
    assert set(typ.candidate_type) == {"在校生", "社会考生"}


def test_daily_curve_reaches_the_total_at_the_deadline(con, cand):
    d = ex.select(cand, BATCH)
    got = q(con, "registrations_daily", batch=BATCH)
    deadline = q(con, "batches").set_index("batch_code").reg_deadline[BATCH]
    assert pd.Timestamp(got.day.max()).date() == pd.Timestamp(deadline).date()
    for level, part in got.groupby("level"):
        part = part.sort_values("day")
        days = pd.to_datetime(part.day)
        assert (days.diff().dropna() == pd.Timedelta(days=1)).all()  # no gaps
        want = d[d.level == level].groupby("day").size()
        counts = part.set_index(days.dt.date).registered
        assert counts[counts > 0].to_dict() == want.to_dict()
        assert part.cumulative.iloc[-1] == len(d[d.level == level])
        assert part.cumulative.is_monotonic_increasing


def test_site_capacity_uses_the_larger_level(con, cand):
    got = q(con, "site_capacity", batch=BATCH).set_index("site_code")
    d = ex.select(cand, BATCH)
    per = d.groupby(["site_code", "level"]).size().unstack(fill_value=0)
    assert got.loc[per.index, "registered_junior"].tolist() == per["初级"].tolist()
    assert got.loc[per.index, "peak"].tolist() == per.max(axis=1).tolist()
    seats = d.drop_duplicates("site_code").set_index("site_code").seats
    assert got.loc[seats.index, "seats"].tolist() == seats.tolist()
    assert (got.over_capacity == (got.peak > got.seats)).all()


def test_site_capacity_flags_a_full_site(fresh_db, cand):
    d = ex.select(cand, BATCH)
    per = d.groupby(["site_code", "level"]).size().unstack(fill_value=0)
    site = per.max(axis=1).idxmax()
    peak = int(per.loc[site].max())
    cur = fresh_db.cursor()
    # Seats between the larger level and the sum of both: full only if both levels sat together.
    cur.execute("update sites set seats = $s where site_code = $c", {"s": peak - 1, "c": site})
    cur.close()
    got = q(fresh_db, "site_capacity", batch=BATCH)
    assert got[got.over_capacity].site_code.tolist() == [site]
    row = got[got.site_code == site].iloc[0]
    assert row.over_by == 1 and row.peak == peak
    other = q(fresh_db, "site_capacity", batch=BATCH, level="初级" if per.loc[site].idxmax() == "中级" else "中级")
    assert other[other.site_code == site].over_capacity.iat[0] == bool(per.loc[site].min() > peak - 1)


def test_borrowed_sites_are_candidates_away_from_their_school(con, cand):
    d = ex.select(cand, BATCH)
    borrowed = d[d.host_school_code != d.school_code]
    assert (borrowed.candidate_type == "在校生").all()  # social candidates belong to the site's school
    want = borrowed.groupby(["school_code", "site_code"]).size()
    got = q(con, "borrowed_sites", batch=BATCH).set_index(["school_code", "site_code"]).candidates
    assert got.sort_index().to_dict() == want.sort_index().to_dict()
    assert got.sum() == len(borrowed) > 0


def test_unusual_absence_follows_the_documented_rule(con, cand):
    for flt in ({}, {"level": "初级"}):
        want = ex.unusual_sites(cand, BATCH, **flt)
        got = q(con, "unusual_absence", batch=BATCH, **flt)
        assert sorted(got.site_code) == sorted(want.site_code)
        if len(got):
            assert np.allclose(got.national_rate, want.national.iat[0])
    assert len(q(con, "unusual_absence", batch=BATCH)) > 0  # the demo has some to show


def test_score_histogram_and_heatmap(con, cand):
    d = ex.select(cand, BATCH, level="中级")
    d = d[d.theory.notna()]
    hist = q(con, "score_histogram", batch=BATCH, level="中级")
    assert len(hist) == 3 * 20 and set(hist.part) == {"theory", "practical", "total"}
    for part in ("theory", "practical", "total"):
        bins = (np.minimum(np.floor(d[part] / 5) * 5, 95)).astype(int).value_counts()
        got = hist[hist.part == part].set_index("bin").candidates
        assert got[got > 0].sort_index().to_dict() == bins.sort_index().to_dict(), part
    heat = q(con, "theory_vs_practical", batch=BATCH, level="中级")
    assert len(heat) == 100 and heat.candidates.sum() == len(d)
    cells = d.assign(t=np.minimum(d.theory // 10 * 10, 90).astype(int),
                     p=np.minimum(d.practical // 10 * 10, 90).astype(int))
    want = cells.groupby(["t", "p"]).size()
    got = heat.set_index(["theory_bin", "practical_bin"]).candidates
    assert got[got > 0].sort_index().to_dict() == want.sort_index().to_dict()


def test_candidate_scores_rows_and_values(con, cand):
    d = ex.select(cand, BATCH, province="山东省").set_index("ticket_no")
    got = q(con, "candidate_scores", batch=BATCH, province="山东省").set_index("ticket_no")
    assert sorted(got.index) == sorted(d.index)
    assert got.name.tolist() == d.loc[got.index, "name"].tolist()
    assert got.id_no.tolist() == d.loc[got.index, "id_no"].tolist()
    assert np.allclose(got.practical.fillna(-1), d.loc[got.index, "practical"].fillna(-1))
    assert got.passed.fillna(False).astype(bool).tolist() == d.loc[got.index, "passed"].tolist()
    limited = q(con, "candidate_scores", batch=BATCH, limit=7)
    assert len(limited) == 7


def test_school_scope_cannot_reach_another_school(con, cand):
    counts = ex.select(cand, BATCH).school_code.value_counts()
    own, other = counts.index[0], counts.index[1]
    scope = Scope(role="school", school_code=own, username="school1")
    mine = q(con, "candidate_scores", scope, batch=BATCH)
    assert len(mine) == counts[own] and set(mine.school_code) == {own}
    asked_other = q(con, "candidate_scores", scope, batch=BATCH, school=other)
    assert asked_other.empty or set(asked_other.school_code) == {own}
    assert asked_other.empty
    for name in ("pass_rates_by_school", "attendance_by_school", "registrations_by_school", "borrowed_sites"):
        rows = q(con, name, scope, batch=BATCH)
        assert set(rows.school_code) <= {own}, name
        assert rows.empty or set(rows.school_code) == {own}
        assert q(con, name, scope, batch=BATCH, school=other).empty, name
    table = scores.score_table(common.runner(con, scope), Filters(BATCH, school=other), False)
    assert table.empty
    with pytest.raises(PermissionError):
        q(con, "pass_rates_by_site", scope, batch=BATCH)  # site-level rows are not the school's to see


def test_page_queries_declare_the_shared_filters():
    from examdash.store.sql_files import get_query

    names = ["registrations_by_site", "registrations_by_school", "registrations_by_province", "registrations_by_type",
             "registrations_daily", "borrowed_sites", "attendance_by_site", "attendance_by_school", "unusual_absence",
             "pass_rates_by_level", "pass_rates_by_province", "pass_rates_by_site", "pass_rates_by_school",
             "score_histogram", "theory_vs_practical", "candidate_scores"]
    for name in names:
        sql = get_query(name)
        assert sql.required == {"batch"}, name
        assert {"level", "province", "site", "school", "candidate_type"} <= sql.optional, name
    for name in ("registrations_by_school", "borrowed_sites", "attendance_by_school", "pass_rates_by_school",
                 "candidate_scores"):
        assert get_query(name).scoped, name
