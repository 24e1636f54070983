"""The web layer's process caches: view models per (view, arguments, scope, data version, day, store) and
figures per frame object. A page run of another scope, a new data version or another day never gets
a cached object built for something else."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from examdash import web
from examdash.store.queries import Scope
from examdash.web import charts


@pytest.fixture
def world(monkeypatch, tmp_path):
    state = {"scope": Scope(role="school", school_code="S1"), "version": 1, "today": dt.date(2023, 6, 14)}
    monkeypatch.setenv("EXAMDASH_DB", str(tmp_path / "a.ducklake"))
    monkeypatch.setattr(web, "scope", lambda: state["scope"])
    monkeypatch.setattr(web, "data_version", lambda: state["version"])
    monkeypatch.setattr(web, "today", lambda: state["today"])
    web._VIEWS.clear()
    return state


def test_a_view_is_built_once_per_scope_version_day_and_store(world, monkeypatch, tmp_path):
    calls = []

    def view(run, batch):
        calls.append((world["scope"].school_code, batch))
        return object()

    first = web.cached_view(view, None, "2023-1")
    assert web.cached_view(view, None, "2023-1") is first and len(calls) == 1
    assert web.cached_view(view, None, "2023-2") is not first  # other arguments
    world["scope"] = Scope(role="school", school_code="S2")
    other_school = web.cached_view(view, None, "2023-1")
    assert other_school is not first and calls[-1] == ("S2", "2023-1")
    world["scope"] = Scope(role="school", school_code="S1")
    assert web.cached_view(view, None, "2023-1") is first
    world["version"] = 2
    assert web.cached_view(view, None, "2023-1") is not first  # an import or a decision
    world["today"] = dt.date(2023, 6, 15)
    n = len(calls)
    web.cached_view(view, None, "2023-1")
    assert len(calls) == n + 1  # a new day (phases, windows)
    monkeypatch.setenv("EXAMDASH_DB", str(tmp_path / "b.ducklake"))
    web.cached_view(view, None, "2023-1")
    assert len(calls) == n + 2  # another store


def test_a_failing_view_is_not_kept_and_the_cache_is_bounded(world, monkeypatch):
    tries = []

    def flaky(run, x):
        tries.append(x)
        if len(tries) == 1:
            raise RuntimeError("boom")
        return x

    with pytest.raises(RuntimeError):
        web.cached_view(flaky, None, 1)
    assert web.cached_view(flaky, None, 1) == 1 and len(tries) == 2
    monkeypatch.setattr(web, "VIEW_ENTRIES", 5)
    for i in range(20):
        web.cached_view(lambda run, i: i, None, i)
    assert len(web._VIEWS) == 5


def test_a_figure_is_built_once_per_frame_object_and_arguments():
    df = pd.DataFrame({"x": ["a", "b"], "y": [1, 2]})
    fig = charts.bar(df, "x", "y", title="t", x_title="x", y_title="y")
    assert charts.bar(df, "x", "y", title="t", x_title="x", y_title="y") is fig
    assert charts.bar(df, "x", "y", title="u", x_title="x", y_title="y") is not fig
    same_content = df.copy()
    assert charts.bar(same_content, "x", "y", title="t", x_title="x", y_title="y") is not fig
    changed = pd.DataFrame({"x": ["a", "b"], "y": [5, 6]})
    assert list(charts.bar(changed, "x", "y", title="t", x_title="x", y_title="y").data[0].y) == [5, 6]


def test_sessions_asking_for_the_same_view_at_once_share_one_build(world):
    import threading

    started, release, calls = threading.Event(), threading.Event(), []

    def slow(run, x):
        calls.append(x)
        started.set()
        release.wait(10)
        return object()

    results = []
    first = threading.Thread(target=lambda: results.append(web.cached_view(slow, None, 1)))
    first.start()
    started.wait(10)
    others = [threading.Thread(target=lambda: results.append(web.cached_view(slow, None, 1))) for _ in range(5)]
    for t in others:
        t.start()
    threading.Event().wait(0.5)  # the others are asking meanwhile (without one build per key, each builds)
    release.set()
    for t in [first, *others]:
        t.join(10)
    assert len(calls) == 1 and len(results) == 6 and all(r is results[0] for r in results)
    assert not web._BUILDING
