"""Every page's view built in plain pytest, with a query runner over the demo store: no Streamlit.

A school's views hold only that school's rows, whatever the filters; the organiser views, built in a
school's scope, refuse or show only that school; the views' figures are the queries' figures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest
from helpers import BATCH, rows

from examdash.domain import auth
from examdash.views import (
    attendance,
    fees,
    overview,
    registrations,
    reviews,
    school,
    school_fees,
    school_reviews,
    scores,
)
from examdash.views.common import Filters, runner

TODAY = dt.date(2023, 7, 1)  # in the demo batch's publicity week
SCHOOL_COLUMNS = ("school_code", "院校代码")


def frames(view) -> dict[str, pd.DataFrame]:
    return {f.name: getattr(view, f.name) for f in dataclasses.fields(view)
            if isinstance(getattr(view, f.name), pd.DataFrame)}


def schools_in(view) -> set[str]:
    found: set[str] = set()
    for df in frames(view).values():
        for col in SCHOOL_COLUMNS:
            if col in df.columns:
                found |= set(df[col].dropna().astype(str))
    return found


@pytest.fixture(scope="module")
def schools(demo_ro) -> list[str]:
    """Three demo schools with registrations in the batch, the first with review requests."""
    filed = [r[0] for r in rows(demo_ro, "select school_code from review_requests where batch_code = $b order by 1",
                                {"b": BATCH})]
    other = [r[0] for r in rows(demo_ro, "select school_code from registrations where batch_code = $b "
                                         "group by 1 order by count(*) desc limit 3", {"b": BATCH})]
    return (filed[:1] + [s for s in other if s not in filed])[:3]


def school_user(demo_ro, code: str) -> auth.User:
    name = rows(demo_ro, "select school_name from schools where school_code = $s", {"s": code})[0][0]
    return auth.User(f"probe{code}", name, "school", code)


def test_school_views_hold_only_the_schools_rows(demo_ro, schools):
    for code in schools:
        user = school_user(demo_ro, code)
        run = runner(demo_ro, auth.scope_for(user))
        views = [school.build(run, user, BATCH), school_fees.build(run, user),
                 school_reviews.build(run, user, BATCH, TODAY)]
        for view in views:
            assert schools_in(view) <= {code}, type(view).__name__
        assert set(school.candidates(run, user, BATCH)["院校代码"]) == {code}
        assert views[1].school_code == code and views[0].school_code == code


def test_a_school_view_ignores_another_school_passed_in(demo_ro, schools):
    """The school comes from the identity: a school account's runner returns nothing of another school,
    even when the view is asked for it through a filter parameter."""
    mine, other = schools[0], schools[1]
    run = runner(demo_ro, auth.scope_for(school_user(demo_ro, mine)))
    assert run("school_profile", school=other).empty
    assert set(run("pass_rates_by_school", batch=BATCH, school=other).school_code) == set()


@pytest.mark.parametrize("build, per_school", [
    (lambda run: overview.build(run, BATCH, TODAY), False),
    (lambda run: registrations.build(run, Filters(BATCH)), True),
    (lambda run: attendance.build(run, Filters(BATCH)), True),
    (lambda run: scores.build(run, Filters(BATCH)), True),
    (lambda run: fees.build(run, None, None, None, BATCH), True),
    (lambda run: reviews.build(run, BATCH, TODAY), True),
], ids=["overview", "registrations", "attendance", "scores", "fees", "reviews"])
def test_organiser_views_build_for_staff_and_never_show_a_school_others(demo_ro, schools, build, per_school):
    view = build(runner(demo_ro))
    built = frames(view)
    assert built and any(len(df) for df in built.values())
    assert (len(schools_in(view)) > 1) == per_school
    code = schools[0]
    try:
        scoped = build(runner(demo_ro, auth.scope_for(school_user(demo_ro, code))))
    except PermissionError:
        return  # a query that is not scoped by school: refused to a school account
    assert schools_in(scoped) <= {code}


def test_view_figures_are_the_registrations(demo_ro):
    """The 报名 view with a level filter: its headline, site, school and province tables all add up to the
    valid registrations of that level counted from the raw table."""
    view = registrations.build(runner(demo_ro), Filters(BATCH, level="中级"))
    want = rows(demo_ro, "select count(*) from registrations where batch_code = $b and level = '中级' "
                         "and status = '正常'", {"b": BATCH})[0][0]
    assert dict((m[0], m[1]) for m in view.metrics)["报名人数"] == f"{want:,}"
    for table in (view.by_site_table, view.by_school_table, view.by_province_table, view.by_type_table):
        assert int(table["中级"].sum()) == int(table["合计"].sum()) == want


def test_filter_choices_put_todays_batch_first_and_narrow_places_by_province(demo_ro):
    from examdash.views.common import current_batch, filter_choices

    run = runner(demo_ro, auth.scope_for(auth.User("probe", "probe", "staff", None)))
    choices = filter_choices(run, TODAY, True)
    batches = run("batches")
    assert choices.batches[0] == current_batch(batches, TODAY)
    assert sorted(choices.batches) == sorted(batches.batch_code)
    options = run("filter_options")
    for kind in ("site", "school"):
        every, labels = choices.places[(kind, None)]
        assert set(every) == set(options[options.kind == kind].code) and set(labels) == set(every)
        for province in choices.provinces:
            codes, _ = choices.places[(kind, province)]
            assert set(codes) == set(options[(options.kind == kind) & (options.province == province)].code)
    school_only = filter_choices(run, TODAY, False)
    assert school_only.batches == choices.batches and school_only.places is None
